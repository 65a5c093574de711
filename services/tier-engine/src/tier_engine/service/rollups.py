"""T3 use cases: run a month's rollup (on demand or on schedule) and read its revisions."""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from keel.errors import Conflict, NotFound
from keel.events.catalogue import EVENTS, ROLLUP_COMPLETED, TIER_CHANGED
from keel.events.payloads.tier import RollupCompletedV1, TierChangedV1
from keel.outbox import enqueue
from keel.policy import require_evaluable
from tier_engine import repository
from tier_engine.config import SERVICE_NAME
from tier_engine.domain import rollup
from tier_engine.domain.calendar import Month, latest_closed_month
from tier_engine.domain.policy import TierPolicy, UnknownCurrency
from tier_engine.domain.rollup import Evaluation
from tier_engine.metrics import ROLLUP_COMPLETED_AT, ROLLUP_DURATION
from tier_engine.schemas import RollupRead


@dataclass(frozen=True, slots=True)
class Outcome:
    month: str
    revision: int
    digest: str
    created: bool
    evaluated_on: date
    partners: int
    tier_counts: dict[str, int]
    tier_changes: int


def evaluation(policy: TierPolicy, month: Month) -> Evaluation:
    """The month's evaluation; a month before the first policy day is a validation error naming
    the field and that day (issue 12 point 3)."""
    require_evaluable(month.evaluated_on, policy.first_day, "month")
    return Evaluation.of(policy, month)


async def _evaluate(session: AsyncSession, ev: Evaluation) -> list[dict[str, Any]]:
    tallied = rollup.tallies(
        ev, await repository.sold_sums(session, ev), await repository.managed_sums(session, ev)
    )
    medians = rollup.medians(await repository.portal_apps(session, ev))
    facts = await repository.standing_facts(session, ev)
    return rollup.documents(ev, tallied, rollup.standings(facts, medians, tallied))


async def _compared(
    session: AsyncSession, month: Month, latest: Any
) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """The documents a new revision is compared with (the month's latest revision) and the
    tiers credited before it (that revision, else the newest earlier month's)."""
    if latest is not None:
        reference: tuple[str, int] | None = (latest.month, latest.revision)
    else:
        reference = await repository.newest_earlier_rollup(session, month)
    if reference is None:
        return {}, {}
    documents = await repository.rollup_documents(session, *reference)
    same_month = documents if latest is not None else {}
    return same_month, {p: d["tier"] for p, d in documents.items()}


async def _run(session: AsyncSession, policy: TierPolicy, month: Month, now: datetime) -> Outcome:
    """Run (or re-run) the month's rollup in the caller's transaction. Equal inputs give the
    equal digest and no new revision; other inputs give a new revision beside the old one, with
    its diff, and `tier.changed` for every partner whose credited tier moved."""
    ev = Evaluation.of(policy, month)
    await repository.lock_month(session, month)
    documents = await _evaluate(session, ev)
    found = rollup.digest(ev, documents)
    counts = rollup.tier_counts(documents)
    latest = await repository.latest_rollup(session, month)
    if latest is not None and latest.digest == found:
        return Outcome(
            str(month),
            latest.revision,
            found,
            False,
            ev.day,
            latest.partners,
            latest.tier_counts,
            0,
        )
    revision = latest.revision + 1 if latest is not None else 1
    same_month, tiers_before = await _compared(session, month, latest)
    await repository.store_rollup(
        session,
        {
            "month": str(month),
            "revision": revision,
            "evaluated_on": ev.day,
            "digest": found,
            "partners": len(documents),
            "tier_counts": counts,
            "policy_versions": ev.policy_versions(),
            "changes": (
                {
                    "previous_revision": latest.revision,
                    "partners": rollup.diff(same_month, documents),
                }
                if latest is not None
                else {}
            ),
            "created_at": now,
        },
        documents,
    )
    moved = rollup.moved(documents, tiers_before)
    await enqueue(
        session,
        [
            *(
                _tier_changed(ev, revision, d, tiers_before.get(d["partner_id"]), now)
                for d in moved
            ),
            EVENTS.message(
                ROLLUP_COMPLETED,
                RollupCompletedV1(
                    month=str(ev.month),
                    revision=revision,
                    digest=found,
                    evaluated_on=ev.day,
                    partners=len(documents),
                    tier_counts=counts,
                ),
                id=f"rollup-{ev.month}-r{revision}",
                source=SERVICE_NAME,
                time=now,
            ),
        ],
    )
    return Outcome(str(month), revision, found, True, ev.day, len(documents), counts, len(moved))


def _tier_changed(
    ev: Evaluation, revision: int, document: dict[str, Any], before: str | None, now: datetime
) -> Any:
    payload = TierChangedV1(
        partner_id=document["partner_id"],
        month=str(ev.month),
        revision=revision,
        tier=document["tier"],
        previous_tier=before,
        partner_type=document["partner_type"],
        model=document["model"],
        evaluated_on=ev.day,
    )
    return EVENTS.message(
        TIER_CHANGED,
        payload,
        id=f"tier-{ev.month}-r{revision}-{document['partner_id']}",
        source=SERVICE_NAME,
        time=now,
        subject=document["partner_id"],
    )


async def run_rollup(
    session: AsyncSession, policy: TierPolicy, month: Month, now: datetime
) -> Outcome:
    """T3 on demand: a month can be rolled up once its evaluated day (the 15th) is over."""
    if month > latest_closed_month(now.date()):
        raise Conflict(
            f"month {month} is evaluated on {month.evaluated_on}; its rollup can run once "
            "that day is over"
        )
    evaluation(policy, month)
    with ROLLUP_DURATION.time():
        try:
            outcome = await _run(session, policy, month, now)
        except UnknownCurrency as error:
            raise Conflict(f"rollup {month}: {error}") from None
        await session.commit()
    ROLLUP_COMPLETED_AT.set_to_current_time()
    return outcome


async def run_scheduled_rollup(
    session: AsyncSession, policy: TierPolicy, month: Month, now: datetime
) -> Outcome | None:
    """The month's first revision, unless it exists."""
    if await repository.latest_rollup(session, month) is not None:
        return None
    return await run_rollup(session, policy, month, now)


async def read_rollup(session: AsyncSession, month: Month, revision: int | None) -> RollupRead:
    rows = await repository.rollup_revisions(session, month)
    chosen = [r for r in rows if revision is None or r.revision == revision]
    if not chosen:
        raise NotFound(f"no rollup for {month}" + (f" revision {revision}" if revision else ""))
    row = chosen[-1]
    return RollupRead(
        month=row.month,
        revision=row.revision,
        revisions=[r.revision for r in rows],
        digest=row.digest,
        evaluated_on=row.evaluated_on,
        created_at=row.created_at,
        partners=row.partners,
        tier_counts=row.tier_counts,
        policy_versions=row.policy_versions,
        changes=row.changes,
    )
