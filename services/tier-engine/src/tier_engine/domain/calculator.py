"""T6, pure: the points calculator. What a new deal of an amount a month would earn, sold and
managed, and the conversion between points and local currency, at the policy of a day."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

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


@dataclass(frozen=True, slots=True)
class _Quote:
    """The unit and the sold and managed rates a deal's terms get on their day."""

    unit: Decimal
    sold: Rate
    managed: Rate
    rates: list[RateRead]


class DealTerms(Protocol):
    """What both calculator modes price (T6): a new deal's currency, client country and type, at
    the policies of a day (today when absent)."""

    currency: str
    country: str
    deal_type: DealType
    on: date | None


def _quote(policy: TierPolicy, terms: DealTerms, today: date) -> _Quote:
    day = require_evaluable(terms.on or today, policy.first_day, "on")
    unit = _unit(policy, terms.currency, day)
    sold = sold_rate(
        policy,
        deal_type=terms.deal_type,
        kind=DealKind.NEW,
        closed_on=day,
        line_first_sold_on=day,
        country=terms.country,
    )
    managed = managed_rate(policy, day, terms.country)
    version = policy.units_on(day).version
    rates = [_rate_read(rate, terms.currency, unit, version) for rate in (sold, managed)]
    return _Quote(unit, sold, managed, rates)


def estimate_points(policy: TierPolicy, wanted: PointsCalculation, today: date) -> PointsEstimate:
    """T6: a new deal of `amount` a month, and its managed share if the partner manages it too
    (split evenly with the other managing partners, M7)."""
    quote = _quote(policy, wanted, today)
    sold_points = points(wanted.amount, quote.unit, quote.sold.per_unit)
    share = wanted.amount / (wanted.other_managing_partners + 1)
    managed_points = (
        points(share, quote.unit, quote.managed.per_unit) if wanted.will_manage else ZERO
    )
    return PointsEstimate(
        sold_points=display(sold_points),
        managed_points=display(managed_points),
        total_points=display(sold_points + managed_points),
        growth_market=quote.sold.growth_factor != 1,
        rates=quote.rates,
    )


def convert_currency(
    policy: TierPolicy, wanted: CurrencyConversion, today: date
) -> CurrencyConverted:
    """T6 currency mode: points <-> local currency for sold and managed values."""
    quote = _quote(policy, wanted, today)
    unit, sold, managed = quote.unit, quote.sold, quote.managed
    to_points = wanted.direction is Direction.CURRENCY_TO_POINTS

    def convert(value: Decimal | None, rate: Rate) -> Decimal | None:
        if value is None:
            return None
        result = points(value, unit, rate.per_unit) if to_points else value * unit / rate.per_unit
        return display(result)

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
        rates=quote.rates,
    )
