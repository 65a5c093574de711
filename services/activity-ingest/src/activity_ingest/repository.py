"""Queries of the ingest log; flushes, never commits."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Table, func, insert, literal, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from activity_ingest.tables import IngestedEvent
from keel.tables import OUTBOX

Identity = tuple[str, str]
# Core table, not the ORM class: the hot path skips the ORM's bulk-persistence machinery.
INGEST_LOG: Table = IngestedEvent.__table__  # type: ignore[attr-defined]


async def insert_new(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> set[Identity]:
    """Log the events not seen before; returns the (source, id) of those it inserted.

    The unique (source, event_id) constraint decides, inside the caller's transaction: a
    concurrent request with the same event waits on the row lock and then sees the conflict.
    """
    if not rows:
        return set()
    inserted = await session.execute(
        pg_insert(INGEST_LOG)
        .on_conflict_do_nothing(index_elements=["source", "event_id"])
        .returning(INGEST_LOG.c.source, INGEST_LOG.c.event_id),
        rows,
    )
    return {(row.source, row.event_id) for row in inserted}


async def queue_replay(
    session: AsyncSession,
    *,
    start: datetime,
    end: datetime,
    by: Literal["ingested_at", "event_time"],
    types: Sequence[str],
    headers: list[list[str]],
) -> int:
    """Copy the logged events of [start, end) into the outbox, in ingest order; returns how many."""
    column = (
        col(IngestedEvent.ingested_at) if by == "ingested_at" else col(IngestedEvent.event_time)
    )
    chosen = select(
        col(IngestedEvent.topic),
        col(IngestedEvent.key),
        func.convert_to(col(IngestedEvent.envelope), "UTF8"),
        literal(headers, JSONB()),
    ).where(column >= start, column < end)
    if types:
        chosen = chosen.where(col(IngestedEvent.type).in_(types))
    result = await session.execute(
        insert(OUTBOX).from_select(
            ["topic", "key", "value", "headers"], chosen.order_by(col(IngestedEvent.seq))
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
