"""Points from money (P1-P4): amount / point unit x rate, the rate doubled in growth markets.
Full precision throughout; rounding is for display only (P4)."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from keel.events.payloads.deal import DealKind, DealType
from tier_engine.domain.policy import TierPolicy

USD_PER_UNIT = Decimal(100)  # P1: a point unit is worth US$100


@dataclass(frozen=True, slots=True)
class Rate:
    """Points per point unit, and why: the P2 base rate, the P3 factor, the versions used."""

    per_unit: Decimal
    base: Decimal
    growth_factor: Decimal
    rule: str
    rates_version: str
    growth_version: str


def points(amount: Decimal, unit: Decimal, rate: Decimal) -> Decimal:
    """P1/P2: local amount over the point unit, times the rate per unit."""
    return amount * rate / unit


def usd(amount: Decimal, unit: Decimal) -> Decimal:
    """The US dollar value of a local amount, by the point unit (for the MRR model, T1)."""
    return amount * USD_PER_UNIT / unit


def _rate(policy: TierPolicy, day: date, country: str | None, base: Decimal, rule: str) -> Rate:
    growth = policy.growth_on(day)
    factor = growth.factor(country)
    if factor != 1:
        rule = f"{rule}; P3 growth market x{factor}"
    return Rate(base * factor, base, factor, rule, policy.rates_on(day).version, growth.version)


def managed_rate(policy: TierPolicy, day: date, country: str | None) -> Rate:
    """P2/P3: the managed rate in force on the evaluated day, for the client's country."""
    return _rate(policy, day, country, policy.rates_on(day).managed, "P2 managed")


@dataclass(frozen=True, slots=True)
class ManagedPoints:
    """P1-P3: the points of a managed credit amount on a day, with the rate and unit used."""

    points: Decimal
    rate: Rate
    unit: Decimal


def managed_points(
    policy: TierPolicy, day: date, amount: Decimal, currency: str, country: str | None
) -> ManagedPoints:
    """Managed credit in points on `day`: the rates, units and growth markets in force then."""
    rate = managed_rate(policy, day, country)
    unit = policy.units_on(day).unit(currency)
    return ManagedPoints(points(amount, unit, rate.per_unit), rate, unit)


def sold_rate(
    policy: TierPolicy,
    *,
    deal_type: DealType,
    kind: DealKind,
    closed_on: date,
    line_first_sold_on: date,
    country: str | None,
) -> Rate:
    """P2/P3: the rate in force at close; an upsell on a product line first sold before the
    rates version took effect keeps that version's rate for older lines."""
    rates = policy.rates_on(closed_on)
    older_line = line_first_sold_on < rates.effective_from
    if kind is DealKind.UPSELL and older_line and rates.upsell_of_older_lines is not None:
        base, rule = (
            rates.upsell_of_older_lines,
            f"P2 upsell on a line first sold {line_first_sold_on}",
        )
    else:
        base, rule = rates.sold(deal_type), f"P2 {deal_type}"
    return _rate(policy, closed_on, country, base, rule)
