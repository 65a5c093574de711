"""T4/T5 reads of the stored rollups: a partner's credited tier with its insights, and its
progress over time with the projection of the coming months."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from keel.errors import NotFound
from keel.events.payloads.tier import Tier
from keel.money import display
from tier_engine import repository
from tier_engine.domain.calendar import Month, latest_closed_month
from tier_engine.domain.policy import TierModel, TierPolicy, Track
from tier_engine.domain.tiers import insights
from tier_engine.schemas import (
    ExpiringRead,
    InsightsRead,
    PartnerTierRead,
    PointsRead,
    ProgressMonthRead,
    ProgressRead,
    RequirementRead,
    TrackInsightRead,
)

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Stored:
    month: Month
    revision: int
    document: dict[str, Any]

    @property
    def figures(self) -> dict[Track, Decimal]:
        return {track: Decimal(self.document["figures"][track.value]) for track in Track}

    def model(self, policy: TierPolicy) -> TierModel:
        return next(m for m in policy.tier_models if m.version == self.document["model"])


async def stored(session: AsyncSession, partner_id: str, month: Month | None) -> Stored:
    """The partner's document in the month's latest revision (the newest month if none given)."""
    row = await repository.stored_document(session, partner_id, month)
    if row is None:
        where = f"the rollup of {month}" if month else "any rollup"
        raise NotFound(f"partner {partner_id} has no figures in {where}")
    return Stored(Month.parse(row.month), row.revision, row.document)


def _points(figures: dict[str, str]) -> PointsRead:
    def shown(name: str) -> Decimal:
        return display(Decimal(figures.get(name, "0")))

    return PointsRead(
        total=shown("total_points"),
        sold=shown("sold_points"),
        sourced=shown("sourced_points"),
        assisted=shown("assisted_points"),
        managed=shown("managed_points"),
    )


def _expiring(document: dict[str, Any]) -> list[ExpiringRead]:
    """T4: per coming month, the points that stop counting by its evaluated day."""
    found = []
    before = document["figures"]
    for step in document["projection"]:

        def lost(
            name: str, step: dict[str, Any] = step, before: dict[str, Any] = before
        ) -> Decimal:
            return display(max(Decimal(before[name]) - Decimal(step[name]), ZERO))

        found.append(
            ExpiringRead(
                month=step["month"],
                evaluated_on=step["evaluated_on"],
                total=lost("total_points"),
                sold=lost("sold_points"),
                managed=lost("managed_points"),
            )
        )
        before = step
    return found


async def partner_tier(
    session: AsyncSession, policy: TierPolicy, partner_id: str, month: Month | None
) -> PartnerTierRead:
    found = await stored(session, partner_id, month)
    document = found.document
    model = found.model(policy)
    tier = Tier(document["tier"]) if document["tier"] else None
    figures = found.figures
    return PartnerTierRead(
        partner_id=partner_id,
        month=str(found.month),
        revision=found.revision,
        evaluated_on=found.month.evaluated_on,
        model=model.version,
        model_derived=model.derived,
        partner_type=document["partner_type"],
        tier=document["tier"],
        certified=document["certified"],
        median_apps=Decimal(document["median_apps"])
        if document["median_apps"] is not None
        else None,
        points=_points(document["figures"]),
        mrr_usd={
            "sold": display(figures[Track.SOLD_MRR_USD]),
            "managed": display(figures[Track.MANAGED_MRR_USD]),
        },
        requirements=[RequirementRead(**r) for r in document["requirements"]],
        insights=InsightsRead(
            tracks=[
                TrackInsightRead(
                    track=i.track.value,
                    value=display(i.value),
                    keep_minimum=i.keep_minimum,
                    next_tier=i.next_tier.value if i.next_tier else None,
                    next_minimum=i.next_minimum,
                    missing_for_next=display(i.missing_for_next)
                    if i.missing_for_next is not None
                    else None,
                )
                for i in insights(model, figures, tier)
            ],
            expiring=_expiring(document),
        ),
    )


def _progress_month(month: str, evaluated_on: Any, figures: dict[str, Any]) -> dict[str, Any]:
    return {
        "month": month,
        "evaluated_on": evaluated_on,
        "sold": display(Decimal(figures["sold_points"])),
        "managed": display(Decimal(figures["managed_points"])),
        "total": display(Decimal(figures["total_points"])),
    }


async def progress(
    session: AsyncSession, partner_id: str, months: int, now: datetime
) -> ProgressRead:
    """T5: sold, managed and total points per month from the rollups (latest revisions), then
    the next 3 months projected from known expiries."""
    last = latest_closed_month(now.date())
    wanted = [last.shift(-k) for k in range(months - 1, -1, -1)]
    latest = await repository.latest_documents(session, partner_id, wanted)
    found = []
    for month in wanted:
        row = latest.get(str(month))
        if row is None:
            found.append(
                ProgressMonthRead(
                    month=str(month),
                    evaluated_on=month.evaluated_on,
                    revision=None,
                    tier=None,
                    sold=None,
                    managed=None,
                    total=None,
                )
            )
            continue
        found.append(
            ProgressMonthRead(
                **_progress_month(str(month), month.evaluated_on, row.document["figures"]),
                revision=row.revision,
                tier=row.document["tier"],
            )
        )
    newest = latest.get(str(last))
    for step in newest.document["projection"] if newest else []:
        found.append(
            ProgressMonthRead(
                **_progress_month(step["month"], step["evaluated_on"], step),
                revision=None,
                tier=None,
                projected=True,
            )
        )
    return ProgressRead(partner_id=partner_id, months=found)
