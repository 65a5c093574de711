"""A partner's capacity as a figure (C2, C6): pure, from the limit in force and the active count."""

from dataclasses import dataclass

from keel.events.payloads.account import PartnerType
from keel.events.payloads.tier import Tier


@dataclass(frozen=True, slots=True)
class Capacity:
    tier: Tier | None
    partner_type: PartnerType
    limit: int
    used: int

    @property
    def available(self) -> int:
        return max(self.limit - self.used, 0)

    @property
    def over_limit(self) -> bool:
        """C6: a tier drop can leave more active registrations than the new limit; they stay."""
        return self.used > self.limit

    @property
    def admits_one_more(self) -> bool:
        """C2, C6: a new registration only while usage is under the limit."""
        return self.used < self.limit
