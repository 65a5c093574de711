"""Queries of the ledger's facts and entries; may flush, never commits."""

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from credit_ledger.tables import Fact

FACT: Table = Fact.__table__  # type: ignore[attr-defined]


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
