"""Capacity policies (C2 limits, C3 reserved domains, C4 expiry): effective-dated data, validated
at load, chosen by the moment a registration is made."""

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import ClassVar

from pydantic import Field, field_validator

from keel.domains import NotADomain, registrable_domain
from keel.events.payloads.account import PartnerType
from keel.events.payloads.tier import Tier
from keel.policy import Policies, Versioned, in_force

POLICY_DIR = Path(__file__).parent.parent / "policies"


class CapacityVersion(Versioned):
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


class CapacityPolicy(Policies):
    directory: ClassVar[Path] = POLICY_DIR

    version: tuple[CapacityVersion, ...]

    def on(self, day: date) -> CapacityVersion:
        """The version in force on the day."""
        return in_force(self.version, day)
