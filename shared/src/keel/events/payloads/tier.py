"""Tier family, topic `tier.events.v1`: produced by the tier engine (T3), read by capacity (C6)."""

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

from keel.events.payloads.account import PartnerType
from keel.events.payloads.common import Identifier, Payload

MonthText = Annotated[
    str,
    StringConstraints(pattern=r"^\d{4}-(0[1-9]|1[0-2])$"),
    Field(description="A calendar month, YYYY-MM", examples=["2025-03"]),
]


class Tier(StrEnum):
    """Credited tiers, lowest first; `partner` is untiered (T2)."""

    PARTNER = "partner"
    SILVER = "silver"
    GOLD = "gold"
    PLATINUM = "platinum"
    DIAMOND = "diamond"
    ELITE = "elite"

    @property
    def rank(self) -> int:
        """0 for `partner`, then upwards (string comparison would order tiers alphabetically)."""
        return list(Tier).index(self)


class TierChangedV1(Payload):
    """`tier.changed`, keyed by partner id: the rollup of `month` (revision `revision`) credits
    the partner with a tier other than the one it credited before (T3). Provider partners have
    no tier (`tier` is null)."""

    partner_id: Identifier
    month: MonthText
    revision: int = Field(ge=1)
    tier: Tier | None = None
    previous_tier: Tier | None = Field(default=None, description="The tier credited before, if any")
    partner_type: PartnerType
    model: str = Field(description="The tier model in force, e.g. points-2025 (T1)")
    evaluated_on: date


class RollupCompletedV1(Payload):
    """`rollup.completed`, keyed by month: a rollup revision was stored (T3)."""

    month: MonthText
    revision: int = Field(ge=1)
    digest: str = Field(
        description="sha256 of the rollup's canonical form: equal inputs, equal digest"
    )
    evaluated_on: date
    partners: int = Field(ge=0)
    tier_counts: dict[str, int]
