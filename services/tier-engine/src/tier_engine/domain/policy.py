"""The tier engine's policies (P1-P3, S2, S3, T1, T2): effective-dated data files in `policies/`,
one policy per file, validated together at load. A new version is a new entry, never code."""

from datetime import date
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from keel.events.payloads.common import COUNTRY_CODES, CURRENCY_CODES
from keel.events.payloads.deal import DealType
from keel.events.payloads.tier import Tier
from keel.policy import Policies, Versioned, in_force

POLICY_DIR = Path(__file__).parent.parent / "policies"
Positive = Field(gt=Decimal(0))


class UnknownCurrency(LookupError):
    """P1: a currency the table in force does not list; never converted as zero."""

    def __init__(self, currency: str, version: str) -> None:
        self.currency, self.version = currency, version
        super().__init__(f"{currency} is not in the currency table {version} (P1)")


class CurrencyUnits(Versioned):
    """P1: per currency, the local amount worth US$100 (one point unit)."""

    units: dict[str, Decimal]

    @model_validator(mode="after")
    def _valid(self) -> Self:
        for currency, unit in self.units.items():
            if currency not in CURRENCY_CODES or unit <= 0:
                raise ValueError(f"{self.version}: {currency} = {unit} is not a valid unit")
        return self

    def unit(self, currency: str) -> Decimal:
        try:
            return self.units[currency]
        except KeyError:
            raise UnknownCurrency(currency, self.version) from None


class Rates(Versioned):
    """P2: points per point unit."""

    managed: Decimal = Positive
    sourced: Decimal = Positive
    assisted: Decimal = Positive
    upsell_of_older_lines: Decimal | None = Field(
        default=None,
        description="The rate of an upsell on a product line first sold before this version",
    )

    def sold(self, deal_type: DealType) -> Decimal:
        return self.sourced if deal_type is DealType.SOURCED else self.assisted


class GrowthMarkets(Versioned):
    """P3: clients in these countries multiply their points."""

    multiplier: Decimal = Positive
    countries: frozenset[str]

    @model_validator(mode="after")
    def _valid(self) -> Self:
        if unknown := self.countries - COUNTRY_CODES:
            raise ValueError(f"{self.version}: not ISO-3166 codes: {sorted(unknown)}")
        return self

    def factor(self, country: str | None) -> Decimal:
        return self.multiplier if country in self.countries else Decimal(1)


class Track(StrEnum):
    """What a threshold is measured on."""

    TOTAL_POINTS = "total_points"
    SOLD_POINTS = "sold_points"
    SOURCED_POINTS = "sourced_points"
    MANAGED_POINTS = "managed_points"
    SOLD_MRR_USD = "sold_mrr_usd"
    MANAGED_MRR_USD = "managed_mrr_usd"


class Requirements(BaseModel):
    """T2: what any tier needs besides its thresholds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    certification: bool = True
    min_median_apps: int | None = Field(default=None, ge=1)
    apps: frozenset[str] = frozenset()

    @model_validator(mode="after")
    def _apps_listed(self) -> Self:
        if self.min_median_apps is not None and not self.apps:
            raise ValueError("min_median_apps needs the list of apps that count")
        return self


class TierThresholds(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tier: Tier
    thresholds: dict[Track, Decimal]


class TierModel(Versioned):
    """T1: the tiers of a model, lowest first; `derived` marks thresholds we derived ourselves."""

    derived: bool
    requirements: Requirements
    tiers: tuple[TierThresholds, ...]

    @model_validator(mode="after")
    def _ascending(self) -> Self:
        ranks = [t.tier.rank for t in self.tiers]
        if not ranks or ranks != sorted(set(ranks)) or Tier.PARTNER.rank in ranks:
            raise ValueError(f"{self.version}: tiers must be distinct, above partner, lowest first")
        return self


class SoldWindow(Versioned):
    months: int = Field(gt=0)


class RegistrationRequired(Versioned):
    required: bool


class TierPolicy(Policies):
    directory: ClassVar[Path] = POLICY_DIR

    currency_units: tuple[CurrencyUnits, ...]
    rates: tuple[Rates, ...]
    growth_markets: tuple[GrowthMarkets, ...]
    tier_models: tuple[TierModel, ...]
    sold_window: tuple[SoldWindow, ...]
    registration_required: tuple[RegistrationRequired, ...]

    def units_on(self, day: date) -> CurrencyUnits:
        return in_force(self.currency_units, day)

    def rates_on(self, day: date) -> Rates:
        return in_force(self.rates, day)

    def growth_on(self, day: date) -> GrowthMarkets:
        return in_force(self.growth_markets, day)

    def model_on(self, day: date) -> TierModel:
        return in_force(self.tier_models, day)

    def sold_window_on(self, day: date) -> SoldWindow:
        return in_force(self.sold_window, day)

    def registration_on(self, day: date) -> RegistrationRequired:
        return in_force(self.registration_required, day)
