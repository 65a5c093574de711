"""All of the tier engine's SQL: the facts the rules read (written by the consumer), the sums and
rows the rollup and the reads evaluate, and the rollup tables. May flush, never commits."""

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Table, bindparam, func, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import distinct_on, insert
from sqlalchemy.ext.asyncio import AsyncSession

from keel.events.payloads.deal import LOSSES
from tier_engine import queries
from tier_engine.domain.calendar import Month
from tier_engine.domain.policy import TierPolicy
from tier_engine.domain.rollup import Evaluation, day_end
from tier_engine.recording import rerated
from tier_engine.tables import (
    ClientApps,
    CreditEntry,
    Deal,
    PartnerFact,
    Registration,
    Rollup,
    RollupPartner,
)

DEAL: Table = Deal.__table__  # type: ignore[attr-defined]
CREDIT: Table = CreditEntry.__table__  # type: ignore[attr-defined]
REGISTRATION: Table = Registration.__table__  # type: ignore[attr-defined]
PARTNER_FACT: Table = PartnerFact.__table__  # type: ignore[attr-defined]
CLIENT_APPS: Table = ClientApps.__table__  # type: ignore[attr-defined]
ROLLUP: Table = Rollup.__table__  # type: ignore[attr-defined]
ROLLUP_PARTNER: Table = RollupPartner.__table__  # type: ignore[attr-defined]
LOCK_MONTH = text("SELECT pg_advisory_xact_lock(hashtext('rollup:' || :month))")

Line = tuple[str, str]  # (client id, product line)


async def append(session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows; one already there (same key) is left as it is (a redelivered event)."""
    if rows:
        await session.execute(insert(table).on_conflict_do_nothing(), list(rows))


async def first_sales(session: AsyncSession, lines: Iterable[Line]) -> dict[Line, date]:
    """The earliest known sale (new, cross-sell or upsell) of each client's product line."""
    wanted = sorted(set(lines))
    if not wanted:
        return {}
    found = await session.execute(
        select(DEAL.c.client_id, DEAL.c.product_line, DEAL.c.closed_on.label("first"))
        .where(
            tuple_(DEAL.c.client_id, DEAL.c.product_line).in_(wanted),
            DEAL.c.kind.not_in([kind.value for kind in LOSSES]),
        )
        .order_by(DEAL.c.client_id, DEAL.c.product_line, DEAL.c.closed_on)
        .ext(distinct_on(DEAL.c.client_id, DEAL.c.product_line))
    )
    return {(row.client_id, row.product_line): row.first for row in found}


async def refresh_lines(session: AsyncSession, policy: TierPolicy, lines: Iterable[Line]) -> None:
    """P2: an upsell's rate depends on when its product line was first sold. Each deal is
    stored as first sale of its line; then the lines a batch touched get their earliest sale, and
    their deals that had another are rated again."""
    first = await first_sales(session, lines)
    if not first:
        return
    deals = await session.execute(
        select(DEAL).where(tuple_(DEAL.c.client_id, DEAL.c.product_line).in_(sorted(first)))
    )
    changed = [
        rerated(policy, dict(row._mapping), first[(row.client_id, row.product_line)])
        for row in deals
        if row.line_first_sold_on != first[(row.client_id, row.product_line)]
    ]
    if changed:
        await session.execute(
            update(DEAL)
            .where(DEAL.c.deal_id == bindparam("key"))
            .values(
                line_first_sold_on=bindparam("line_first_sold_on"),
                rate=bindparam("rate"),
                rate_rule=bindparam("rate_rule"),
            ),
            [
                {
                    "key": row["deal_id"],
                    "line_first_sold_on": row["line_first_sold_on"],
                    "rate": row["rate"],
                    "rate_rule": row["rate_rule"],
                }
                for row in changed
            ],
        )


async def end_registrations(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """A deregistration or expiry ends the registration at its time (S3 reads the interval)."""
    if rows:
        await session.execute(
            update(REGISTRATION)
            .where(REGISTRATION.c.registration_id == bindparam("key"))
            .values(ended_at=bindparam("ended_at"), ended_by=bindparam("ended_by")),
            [
                {
                    "key": row["registration_id"],
                    "ended_at": row["ended_at"],
                    "ended_by": row["ended_by"],
                }
                for row in rows
            ],
        )


def lines_of(rows: Iterable[dict[str, Any]]) -> set[Line]:
    return {(row["client_id"], row["product_line"]) for row in rows}


async def client_deals(session: AsyncSession, partner_id: str, client_id: str) -> Sequence[Any]:
    rows = await session.execute(
        select(DEAL)
        .where(DEAL.c.partner_id == partner_id, DEAL.c.client_id == client_id)
        .order_by(DEAL.c.closed_at, DEAL.c.deal_id)
    )
    return rows.all()


async def client_credit(session: AsyncSession, partner_id: str, client_id: str) -> Sequence[Any]:
    rows = await session.execute(
        select(CREDIT)
        .where(CREDIT.c.partner_id == partner_id, CREDIT.c.client_id == client_id)
        .order_by(CREDIT.c.effective_on, CREDIT.c.recorded_at, CREDIT.c.id)
    )
    return rows.all()


async def registered_at_close(session: AsyncSession, deal_ids: list[str]) -> dict[str, bool]:
    """S3 per deal: whether it may earn sold credit."""
    if not deal_ids:
        return {}
    rows = await session.execute(queries.DEALS_REGISTERED, {"ids": deal_ids})
    return {row.deal_id: row.registered for row in rows}


async def partner_deals(session: AsyncSession, ev: Evaluation, partner_id: str) -> Sequence[Any]:
    """The partner's deals in the sold window of the evaluated day (S2), each with S3's verdict."""
    rows = await session.execute(
        queries.PARTNER_DEALS,
        {"partner_id": partner_id, "window_start": ev.window_start, "day": ev.day},
    )
    return rows.all()


async def partner_credit(session: AsyncSession, day: date, partner_id: str) -> Sequence[Any]:
    """Per client, the partner's ledger entry standing on `day`."""
    rows = await session.execute(queries.PARTNER_CREDIT, {"partner_id": partner_id, "day": day})
    return rows.all()


# The rollup's inputs (T3), set-based over every partner.


async def lock_month(session: AsyncSession, month: Month) -> None:
    """One rollup of a month at a time, until the caller's transaction ends."""
    await session.execute(LOCK_MONTH, {"month": str(month)})


async def sold_sums(session: AsyncSession, ev: Evaluation) -> Sequence[Any]:
    starts = ev.window_starts_ahead()
    rows = await session.execute(
        queries.SOLD_SUMS,
        {
            "window_start": ev.window_start,
            "day": ev.day,
            **{f"lost_by_{k}": start for k, start in enumerate(starts, 1)},
        },
    )
    return rows.all()


async def managed_sums(session: AsyncSession, ev: Evaluation) -> Sequence[Any]:
    rows = await session.execute(
        queries.MANAGED_SUMS,
        {
            "day": ev.day,
            **{f"day_{k}": day for k, day in enumerate(ev.ahead, 1)},
            "known_by": day_end(ev.day),
        },
    )
    return rows.all()


async def standing_facts(session: AsyncSession, ev: Evaluation) -> Sequence[Any]:
    """Each partner's latest type and certification facts known by the end of the day (T2)."""
    return (await session.execute(queries.STANDINGS, {"day_end": day_end(ev.day)})).all()


async def portal_apps(session: AsyncSession, ev: Evaluation) -> Sequence[Any]:
    """T2: per partner and counted portal, how many of the listed apps it uses, under every
    model that lists the apps (a requirement where it sets a minimum, shown otherwise)."""
    wanted = ev.model.requirements
    if not wanted.apps:
        return []
    rows = await session.execute(
        queries.PORTAL_APPS,
        {
            "window_start": ev.window_start,
            "day": ev.day,
            "day_end": day_end(ev.day),
            "apps": sorted(wanted.apps),
        },
    )
    return rows.all()


# The rollup tables: revisions of a month and the partners' documents in each.


async def latest_rollup(session: AsyncSession, month: Month) -> Any:
    query = select(ROLLUP).where(ROLLUP.c.month == str(month))
    return (await session.execute(query.order_by(ROLLUP.c.revision.desc()).limit(1))).first()


async def rollup_revisions(session: AsyncSession, month: Month) -> Sequence[Any]:
    query = select(ROLLUP).where(ROLLUP.c.month == str(month)).order_by(ROLLUP.c.revision)
    return (await session.execute(query)).all()


async def newest_earlier_rollup(session: AsyncSession, month: Month) -> tuple[str, int] | None:
    """(month, latest revision) of the newest month before `month` that has a rollup."""
    row = (
        await session.execute(
            select(ROLLUP.c.month, func.max(ROLLUP.c.revision))
            .where(ROLLUP.c.month < str(month))
            .group_by(ROLLUP.c.month)
            .order_by(ROLLUP.c.month.desc())
            .limit(1)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def rollup_documents(
    session: AsyncSession, month: str, revision: int
) -> dict[str, dict[str, Any]]:
    rows = await session.execute(
        select(ROLLUP_PARTNER.c.partner_id, ROLLUP_PARTNER.c.document).where(
            ROLLUP_PARTNER.c.month == month, ROLLUP_PARTNER.c.revision == revision
        )
    )
    return {row.partner_id: row.document for row in rows}


async def store_rollup(
    session: AsyncSession, rollup: dict[str, Any], documents: list[dict[str, Any]]
) -> None:
    await session.execute(insert(ROLLUP).values(**rollup))
    if documents:
        await session.execute(
            insert(ROLLUP_PARTNER),
            [
                {
                    "month": rollup["month"],
                    "revision": rollup["revision"],
                    "partner_id": d["partner_id"],
                    "partner_type": d["partner_type"],
                    "model": d["model"],
                    "tier": d["tier"],
                    "document": d,
                }
                for d in documents
            ],
        )


async def rollup_policy_versions(session: AsyncSession, month: Month, revision: int) -> Any:
    return await session.scalar(
        select(ROLLUP.c.policy_versions).where(
            ROLLUP.c.month == str(month), ROLLUP.c.revision == revision
        )
    )


async def stored_document(session: AsyncSession, partner_id: str, month: Month | None) -> Any:
    """The partner's row in the month's latest revision (the newest month if none given)."""
    query = select(ROLLUP_PARTNER.c.month, ROLLUP_PARTNER.c.revision, ROLLUP_PARTNER.c.document)
    query = query.where(ROLLUP_PARTNER.c.partner_id == partner_id)
    if month is not None:
        query = query.where(ROLLUP_PARTNER.c.month == str(month))
    query = query.order_by(ROLLUP_PARTNER.c.month.desc(), ROLLUP_PARTNER.c.revision.desc())
    return (await session.execute(query.limit(1))).first()


async def latest_documents(
    session: AsyncSession, partner_id: str, months: Iterable[Month]
) -> dict[str, Any]:
    """Per month, the partner's row in the month's latest revision."""
    rows = await session.execute(
        select(ROLLUP_PARTNER.c.month, ROLLUP_PARTNER.c.revision, ROLLUP_PARTNER.c.document)
        .where(
            ROLLUP_PARTNER.c.partner_id == partner_id,
            ROLLUP_PARTNER.c.month.in_([str(m) for m in months]),
        )
        .order_by(ROLLUP_PARTNER.c.month, ROLLUP_PARTNER.c.revision)
    )
    return {row.month: row for row in rows}  # ordered by revision: the last one stays


async def documents_up_to(session: AsyncSession, last: Month) -> list[tuple[str, str, Any]]:
    """(month, partner, document) of each month's latest revision, for months up to `last`."""
    partner = ROLLUP_PARTNER.c
    latest = (
        select(partner.month, func.max(partner.revision).label("revision"))
        .where(partner.month <= str(last))
        .group_by(partner.month)
        .subquery()
    )
    query = select(partner.month, partner.partner_id, partner.document).join(
        latest, (partner.month == latest.c.month) & (partner.revision == latest.c.revision)
    )
    return [(row.month, row.partner_id, row.document) for row in await session.execute(query)]
