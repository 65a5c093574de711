"""HTTP request and response models of the tier engine. Points are shown rounded half-up to 2
decimals (P4); stored figures keep full precision."""

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    Field,
    NonNegativeInt,
    model_validator,
)

from keel.events.payloads.common import Country, Currency
from keel.events.payloads.deal import DealType
from keel.events.payloads.tier import MonthText
from keel.http.schemas import Schema
from keel.money import Amount
from tier_engine.domain.calendar import Month as CalendarMonth

NonNegative = Annotated[Amount, Field(ge=Decimal(0))]


def _on_the_calendar(text: str) -> str:
    CalendarMonth.parse(text)  # a year the tier calendar cannot reach: 422 naming the field
    return text


# A month as the client sends it: the pattern, and a year the rollup's windows stay within.
InputMonth = Annotated[MonthText, AfterValidator(_on_the_calendar)]


class RollupCreate(Schema):
    month: InputMonth


class RollupRunRead(Schema):
    month: MonthText
    revision: int
    digest: str
    created: bool = Field(description="False when the inputs were unchanged (same digest)")
    evaluated_on: date
    partners: int
    tier_counts: dict[str, int]
    tier_changes: int


class RollupRead(Schema):
    month: MonthText
    revision: int
    revisions: list[int]
    digest: str
    evaluated_on: date
    created_at: Any
    partners: int
    tier_counts: dict[str, int]
    policy_versions: dict[str, str]
    changes: dict[str, Any] = Field(description="What differs from the previous revision")


class PointsRead(Schema):
    total: Amount
    sold: Amount
    sourced: Amount
    assisted: Amount
    managed: Amount


class RequirementRead(Schema):
    name: str
    met: bool
    detail: str


class TrackInsightRead(Schema):
    track: str
    value: Amount
    keep_minimum: Amount | None = Field(description="The credited tier's minimum on this track")
    next_tier: str | None
    next_minimum: Amount | None
    missing_for_next: Amount | None


class ExpiringRead(Schema):
    month: MonthText
    evaluated_on: date
    total: Amount
    sold: Amount
    managed: Amount


class InsightsRead(Schema):
    tracks: list[TrackInsightRead]
    expiring: list[ExpiringRead] = Field(
        description="Points that stop counting by each of the next 3 evaluated days (T4)"
    )


class PartnerTierRead(Schema):
    partner_id: str
    month: MonthText
    revision: int
    evaluated_on: date
    model: str
    model_derived: bool = Field(description="The model's thresholds are our derived defaults")
    partner_type: str
    tier: str | None
    certified: bool = Field(description="A valid partner certification on the evaluated day (T2)")
    median_apps: Amount | None = Field(
        description="Median app usage across the portals counted for credit (T2), every model"
    )
    points: PointsRead
    mrr_usd: dict[str, Amount]
    requirements: list[RequirementRead]
    insights: InsightsRead


class MarketType(StrEnum):
    GROWTH = "growth"
    OTHER = "other"


class BreakdownQuery(Schema):
    month: InputMonth | None = None
    deal_type: DealType | None = None
    market_type: MarketType | None = None


class RateRead(Schema):
    deal_id: str | None = None
    rule: str
    points_per_unit: Amount
    currency: str
    unit: Amount = Field(description="Local currency worth US$100 (P1)")
    units_version: str | None = None
    rates_version: str | None = None


class ClientBreakdownRead(Schema):
    client_id: str
    country: str | None
    market_type: MarketType
    sourced_points: Amount
    assisted_points: Amount
    sold_points: Amount
    managed_points: Amount
    total_points: Amount
    rates: list[RateRead]


class BreakdownRead(Schema):
    partner_id: str
    month: MonthText
    evaluated_on: date
    filters: dict[str, str | None]
    totals: PointsRead
    clients: list[ClientBreakdownRead]


class DealStatus(StrEnum):
    """A deal as of the asked day: counting (S2), past its window, refused by S3, or closed
    only after that day."""

    ACTIVE = "active"
    EXPIRED = "expired"
    NOT_CREDITED = "not_credited"
    NOT_YET_CLOSED = "not_yet_closed"


class DealHistoryRead(Schema):
    deal_id: str
    closed_on: date
    deal_type: str
    kind: str
    product_line: str
    mrr_delta: Amount
    currency: str
    points: Amount
    rate: RateRead
    registered_at_close: bool
    counts_until: date
    status: DealStatus


class CreditHistoryRead(Schema):
    effective_on: date
    amount: Amount
    currency: str
    denominator: int
    points: Amount
    rule: str
    recorded_at: Any
    cause: list[str]


class ClientHistoryRead(Schema):
    partner_id: str
    client_id: str
    as_of: date
    active_sold_points: Amount
    expired_sold_points: Amount
    managed_points: Amount
    deals: list[DealHistoryRead]
    managed_credit: list[CreditHistoryRead]


class ProgressMonthRead(Schema):
    month: MonthText
    evaluated_on: date
    revision: int | None
    tier: str | None
    sold: Amount | None
    managed: Amount | None
    total: Amount | None
    projected: bool = False


class ProgressRead(Schema):
    partner_id: str
    months: list[ProgressMonthRead]


class ExplainRead(Schema):
    partner_id: str
    month: MonthText
    revision: int
    evaluated_on: date
    tier: str | None
    derivation: list[str] = Field(description="The derivation, top down, with rule ids")
    model: dict[str, Any]
    requirements: list[RequirementRead]
    figures: dict[str, str] = Field(description="The rollup's figures, full precision (P4)")
    policy_versions: dict[str, str]
    clients: list[dict[str, Any]]
    live_matches_rollup: bool = Field(
        description="Whether the figures recomputed now equal the stored revision's"
    )


class PointsCalculation(Schema):
    amount: NonNegative
    currency: Currency
    country: Country
    deal_type: DealType = DealType.SOURCED
    will_manage: bool = False
    other_managing_partners: NonNegativeInt = 0
    on: date | None = Field(
        default=None, description="The day whose policies apply; today if absent"
    )


class PointsEstimate(Schema):
    sold_points: Amount
    managed_points: Amount
    total_points: Amount
    growth_market: bool
    rates: list[RateRead]


class Direction(StrEnum):
    POINTS_TO_CURRENCY = "points_to_currency"
    CURRENCY_TO_POINTS = "currency_to_points"


class CurrencyConversion(Schema):
    direction: Direction
    currency: Currency
    country: Country
    deal_type: DealType = DealType.SOURCED
    sold_points: NonNegative | None = None
    managed_points: NonNegative | None = None
    sold_value: NonNegative | None = None
    managed_value: NonNegative | None = None
    on: date | None = None

    @model_validator(mode="after")
    def _inputs_match_direction(self) -> Self:
        wanted = (
            ("sold_points", "managed_points")
            if self.direction is Direction.POINTS_TO_CURRENCY
            else ("sold_value", "managed_value")
        )
        other = {"sold_points", "managed_points", "sold_value", "managed_value"} - set(wanted)
        if any(getattr(self, name) is not None for name in other):
            raise ValueError(f"{self.direction} takes {' or '.join(wanted)} only")
        if all(getattr(self, name) is None for name in wanted):
            raise ValueError(f"{self.direction} needs {' or '.join(wanted)}")
        return self


class CurrencyConverted(Schema):
    direction: Direction
    currency: str
    sold_points: Amount | None
    managed_points: Amount | None
    sold_value: Amount | None
    managed_value: Amount | None
    rates: list[RateRead]
