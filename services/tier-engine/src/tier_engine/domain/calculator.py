"""T6, pure: the points calculator. What a new deal of an amount a month would earn, sold and
managed, and the conversion between points and local currency, at the policy of a day."""

from datetime import date
from decimal import Decimal

from keel.errors import FieldError, ValidationFailed
from keel.events.payloads.deal import DealKind, DealType
from keel.money import display
from keel.policy import require_evaluable
from tier_engine.domain.points import Rate, managed_rate, points, sold_rate
from tier_engine.domain.policy import TierPolicy, UnknownCurrency
from tier_engine.schemas import (
    CurrencyConversion,
    CurrencyConverted,
    Direction,
    PointsCalculation,
    PointsEstimate,
    RateRead,
)

ZERO = Decimal(0)


def _unit(policy: TierPolicy, currency: str, day: date) -> Decimal:
    try:
        return policy.units_on(day).unit(currency)
    except UnknownCurrency as error:
        raise ValidationFailed(str(error), errors=[FieldError("currency", str(error))]) from None


def _rate_read(rate: Rate, currency: str, unit: Decimal, units_version: str) -> RateRead:
    return RateRead(
        rule=rate.rule,
        points_per_unit=rate.per_unit,
        currency=currency,
        unit=unit,
        units_version=units_version,
        rates_version=rate.rates_version,
    )


def _rates(
    policy: TierPolicy, currency: str, country: str, deal_type: DealType, day: date
) -> tuple[Decimal, Rate, Rate]:
    unit = _unit(policy, currency, day)
    sold = sold_rate(
        policy,
        deal_type=deal_type,
        kind=DealKind.NEW,
        closed_on=day,
        line_first_sold_on=day,
        country=country,
    )
    return unit, sold, managed_rate(policy, day, country)


def estimate_points(policy: TierPolicy, wanted: PointsCalculation, today: date) -> PointsEstimate:
    """T6: a new deal of `amount` a month, and its managed share if the partner manages it too
    (split evenly with the other managing partners, M7)."""
    day = require_evaluable(wanted.on or today, policy.first_day, "on")
    unit, sold, managed = _rates(policy, wanted.currency, wanted.country, wanted.deal_type, day)
    sold_points = points(wanted.amount, unit, sold.per_unit)
    share = wanted.amount / (wanted.other_managing_partners + 1)
    managed_points = points(share, unit, managed.per_unit) if wanted.will_manage else ZERO
    version = policy.units_on(day).version
    return PointsEstimate(
        sold_points=display(sold_points),
        managed_points=display(managed_points),
        total_points=display(sold_points + managed_points),
        growth_market=sold.growth_factor != 1,
        rates=[
            _rate_read(sold, wanted.currency, unit, version),
            _rate_read(managed, wanted.currency, unit, version),
        ],
    )


def convert_currency(
    policy: TierPolicy, wanted: CurrencyConversion, today: date
) -> CurrencyConverted:
    """T6 currency mode: points <-> local currency for sold and managed values."""
    day = require_evaluable(wanted.on or today, policy.first_day, "on")
    unit, sold, managed = _rates(policy, wanted.currency, wanted.country, wanted.deal_type, day)
    to_points = wanted.direction is Direction.CURRENCY_TO_POINTS

    def convert(value: Decimal | None, rate: Rate) -> Decimal | None:
        if value is None:
            return None
        result = points(value, unit, rate.per_unit) if to_points else value * unit / rate.per_unit
        return display(result)

    version = policy.units_on(day).version
    return CurrencyConverted(
        direction=wanted.direction,
        currency=wanted.currency,
        sold_points=convert(wanted.sold_value, sold) if to_points else wanted.sold_points,
        managed_points=convert(wanted.managed_value, managed)
        if to_points
        else wanted.managed_points,
        sold_value=wanted.sold_value if to_points else convert(wanted.sold_points, sold),
        managed_value=wanted.managed_value
        if to_points
        else convert(wanted.managed_points, managed),
        rates=[
            _rate_read(sold, wanted.currency, unit, version),
            _rate_read(managed, wanted.currency, unit, version),
        ],
    )
