"""Queries of the ledger's facts and entries; may flush, never commits."""

from collections.abc import Collection, Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, Table, select
from sqlalchemy.dialects.postgresql import distinct_on, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from credit_ledger.schemas import LedgerQuery
from credit_ledger.tables import Fact, LedgerEntry

FACT: Table = Fact.__table__  # type: ignore[attr-defined]
LEDGER_COLUMNS = LedgerEntry.__table__.c  # type: ignore[attr-defined]


async def record_facts(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Append facts; one already recorded (same source and id) is left as it is."""
    if rows:
        await session.execute(insert(FACT).on_conflict_do_nothing(), list(rows))


async def clients_of_users(session: AsyncSession, user_ids: Iterable[str]) -> set[str]:
    users = set(user_ids)
    if not users:
        return set()
    found = await session.scalars(
        select(col(Fact.client_id))
        .where(col(Fact.user_id).in_(users), col(Fact.client_id).is_not(None))
        .distinct()
    )
    return {client_id for client_id in found if client_id}


async def clients_of_partners(session: AsyncSession, partner_ids: Iterable[str]) -> set[str]:
    partners = set(partner_ids)
    if not partners:
        return set()
    added, touched = FACT.alias("added"), FACT.alias("touched")
    found = await session.scalars(
        select(touched.c.client_id)
        .join(added, added.c.user_id == touched.c.user_id)
        .where(
            added.c.kind == "partner_user.added",
            added.c.partner_id.in_(partners),
            touched.c.client_id.is_not(None),
        )
        .distinct()
    )
    return {client_id for client_id in found if client_id}


async def credits_on(
    session: AsyncSession, partner_id: str, day: date
) -> Sequence[Row[str, Decimal, str, int, str | None]]:
    """Per client, the entry in force on `day` as now known: the last effective day up to it,
    and for that day the latest recorded entry (a correction wins). Plain rows, not ORM
    objects: a partner may have thousands of clients."""
    entry = LEDGER_COLUMNS
    query = (
        select(entry.client_id, entry.amount, entry.currency, entry.denominator, entry.country)
        .where(entry.partner_id == partner_id, entry.effective_on <= day)
        .order_by(entry.client_id, entry.effective_on.desc(), entry.id.desc())
        .ext(distinct_on(entry.client_id))
    )
    return (await session.execute(query)).all()


async def first_end_after(
    session: AsyncSession, partner_id: str, client_ids: Collection[str], day: date
) -> dict[str, date]:
    """Per client, the first day after `day` on which the partner's credit is (now known as) 0."""
    if not client_ids:
        return {}
    query = (
        select(col(LedgerEntry.client_id), col(LedgerEntry.effective_on), col(LedgerEntry.amount))
        .where(
            col(LedgerEntry.partner_id) == partner_id,
            col(LedgerEntry.client_id).in_(client_ids),
            col(LedgerEntry.effective_on) > day,
        )
        .order_by(
            col(LedgerEntry.client_id), col(LedgerEntry.effective_on), col(LedgerEntry.id).desc()
        )
        .ext(distinct_on(col(LedgerEntry.client_id), col(LedgerEntry.effective_on)))
    )
    ends: dict[str, date] = {}
    for client_id, effective_on, amount in await session.execute(query):
        if amount == 0 and client_id not in ends:
            ends[client_id] = effective_on
    return ends


async def ledger_page(
    session: AsyncSession, partner_id: str, wanted: LedgerQuery, *, limit: int
) -> Sequence[LedgerEntry]:
    query = select(LedgerEntry).where(col(LedgerEntry.partner_id) == partner_id)
    if wanted.start is not None:
        query = query.where(col(LedgerEntry.effective_on) >= wanted.start)
    if wanted.end is not None:
        query = query.where(col(LedgerEntry.effective_on) <= wanted.end)
    if wanted.known_at is not None:
        query = query.where(col(LedgerEntry.recorded_at) <= wanted.known_at)
    if wanted.after is not None:
        query = query.where(col(LedgerEntry.id) > wanted.after)
    return (await session.scalars(query.order_by(col(LedgerEntry.id)).limit(limit))).all()


async def partner_user_facts(
    session: AsyncSession, partner_id: str, user_id: str | None = None
) -> Sequence[Fact]:
    """The partner's user facts (added, status changes) and its links, in event-time order."""
    query = select(Fact).where(
        col(Fact.partner_id) == partner_id,
        col(Fact.kind).startswith("partner_user.") | col(Fact.kind).startswith("link."),
    )
    if user_id is not None:
        query = query.where(col(Fact.user_id) == user_id)
    return (await session.scalars(query.order_by(col(Fact.at), col(Fact.event_id)))).all()


async def client_known(session: AsyncSession, client_id: str) -> bool:
    found = await session.scalar(
        select(col(Fact.event_id))
        .where(col(Fact.client_id) == client_id, col(Fact.kind) == "client.created")
        .limit(1)
    )
    return found is not None
