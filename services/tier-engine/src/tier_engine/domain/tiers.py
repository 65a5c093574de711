"""Credited tiers (T1, T2) and what a partner needs to keep or reach one (T4)."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from keel.events.payloads.account import PartnerType
from keel.events.payloads.tier import Tier
from tier_engine.domain.policy import TierModel, TierThresholds, Track

Figures = Mapping[Track, Decimal]


@dataclass(frozen=True, slots=True)
class Standing:
    """What T2 asks of the partner besides points."""

    partner_type: PartnerType
    certified: bool
    median_apps: Decimal | None  # across the portals counted for sold and managed credit


@dataclass(frozen=True, slots=True)
class Requirement:
    name: str
    met: bool
    detail: str


@dataclass(frozen=True, slots=True)
class TrackInsight:
    """T4, per track: the value, the minimum to keep the credited tier, what the next tier lacks."""

    track: Track
    value: Decimal
    keep_minimum: Decimal | None
    next_tier: Tier | None
    next_minimum: Decimal | None
    missing_for_next: Decimal | None


def median(values: Sequence[int]) -> Decimal | None:
    """The median as a Decimal (the mean of the two middle values for an even count)."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return Decimal(ordered[middle])
    return Decimal(ordered[middle - 1] + ordered[middle]) / 2


def requirements(model: TierModel, standing: Standing) -> list[Requirement]:
    """T2: certification for any tier; a median app usage where the model asks for one."""
    wanted = model.requirements
    found: list[Requirement] = []
    if wanted.certification:
        found.append(
            Requirement(
                "certification",
                standing.certified,
                "valid certification" if standing.certified else "no valid certification",
            )
        )
    if wanted.min_median_apps is not None:
        apps = standing.median_apps
        found.append(
            Requirement(
                "median_apps",
                apps is not None and apps >= wanted.min_median_apps,
                f"median {apps if apps is not None else 'n/a'} apps, at least "
                f"{wanted.min_median_apps} needed",
            )
        )
    return found


def _meets(tier: TierThresholds, figures: Figures) -> bool:
    return all(figures[track] >= minimum for track, minimum in tier.thresholds.items())


def credited_tier(model: TierModel, figures: Figures, standing: Standing) -> Tier | None:
    """T1/T2: the highest tier whose every threshold is met (unrounded, P4) when the requirements
    hold; `partner` below the first tier; providers earn points but have no tier (None)."""
    if standing.partner_type is PartnerType.PROVIDER:
        return None
    if not all(r.met for r in requirements(model, standing)):
        return Tier.PARTNER
    met = [tier.tier for tier in model.tiers if _meets(tier, figures)]
    return met[-1] if met else Tier.PARTNER


def insights(model: TierModel, figures: Figures, tier: Tier | None) -> list[TrackInsight]:
    """T4 for every track: the credited tier's minimum and the gap to the next tier."""
    current = next((t for t in model.tiers if t.tier == tier), None)
    above = [t for t in model.tiers if current is None or t.tier.rank > current.tier.rank]
    following = above[0] if above and tier is not None else None
    found = []
    for track in Track:
        value = figures[track]
        keep = current.thresholds.get(track) if current else None
        target = following.thresholds.get(track) if following else None
        found.append(
            TrackInsight(
                track=track,
                value=value,
                keep_minimum=keep,
                next_tier=following.tier if following else None,
                next_minimum=target,
                missing_for_next=max(target - value, Decimal(0)) if target is not None else None,
            )
        )
    return found
