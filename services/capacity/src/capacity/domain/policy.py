"""Capacity policies (C2 limits, C3 reserved domains, C4 expiry): effective-dated data, validated
at load, chosen by the moment a registration is made."""

from bisect import bisect_right
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from keel.domains import NotADomain, registrable_domain
from keel.events.payloads.account import PartnerType
from keel.events.payloads.tier import Tier
from keel.policy import read_policy_files

POLICY_DIR = Path(__file__).parent.parent / "policies"


class CapacityVersion(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str
    effective_from: date
    note: str = ""
    tier_limits: dict[Tier, int] = Field(description="C2: the limit of each tier")
    partner_type_limits: dict[PartnerType, int] = Field(
        default_factory=dict, description="C2: a limit that holds regardless of tier"
    )
    expiry_days: dict[PartnerType, int] = Field(
        default_factory=dict, description="C4: days after which a registration expires"
    )
    reserved_domains: frozenset[str] = frozenset()

    @field_validator("tier_limits")
    @classmethod
    def _every_tier(cls, limits: dict[Tier, int]) -> dict[Tier, int]:
        if missing := set(Tier) - set(limits):
            raise ValueError(f"no limit for tiers {sorted(missing)}")
        return limits

    @field_validator("tier_limits", "partner_type_limits", "expiry_days")
    @classmethod
    def _positive(cls, values: dict[str, int]) -> dict[str, int]:
        if bad := [name for name, value in values.items() if value <= 0]:
            raise ValueError(f"must be positive: {sorted(bad)}")
        return values

    @field_validator("reserved_domains")
    @classmethod
    def _registrable(cls, domains: frozenset[str]) -> frozenset[str]:
        for domain in domains:
            try:
                normal = registrable_domain(domain)
            except NotADomain as error:
                raise ValueError(f"reserved domain {domain!r} {error}") from None
            if normal != domain:
                raise ValueError(f"reserved domain {domain!r} must be written as {normal!r}")
        return domains

    def limit(self, tier: Tier | None, partner_type: PartnerType) -> int:
        """C2: a partner-type limit wins over the tier's; no tier (untiered, provider) is the
        untiered `partner` limit."""
        if partner_type in self.partner_type_limits:
            return self.partner_type_limits[partner_type]
        return self.tier_limits[tier or Tier.PARTNER]

    def expires_at(self, partner_type: PartnerType, registered_at: datetime) -> datetime | None:
        """C4: when a registration made at `registered_at` expires by itself, if it does."""
        days = self.expiry_days.get(partner_type)
        return None if days is None else registered_at + timedelta(days=days)

    def reserves(self, domain: str) -> bool:
        """C3: the vendor keeps these domains for itself."""
        return domain in self.reserved_domains


class CapacityPolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: tuple[CapacityVersion, ...]

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        days = [v.effective_from for v in self.version]
        if not days or days != sorted(set(days)):
            raise ValueError("versions must exist, with increasing effective_from")
        return self

    def on(self, day: date) -> CapacityVersion:
        """The version in force on the day."""
        index = bisect_right([v.effective_from for v in self.version], day) - 1
        if index < 0:
            raise LookupError(f"no capacity policy in force on {day}")
        return self.version[index]

    @classmethod
    def load(cls, directory: Path | None = None) -> Self:
        return cls.model_validate(read_policy_files(directory or POLICY_DIR))
