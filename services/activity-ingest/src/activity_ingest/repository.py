"""Queries of the ingest log; never commits."""

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from sqlalchemy import ARRAY, DateTime, Select, Table, Text, bindparam, func, literal, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from activity_ingest.tables import IngestedEvent
from keel.outbox import enqueue_rows

Identity = tuple[str, str]
# Core table, not the ORM class: the hot path skips the ORM's bulk-persistence machinery.
INGEST_LOG: Table = IngestedEvent.__table__  # type: ignore[attr-defined]
LOGGED = ("source", "event_id", "type", "topic", "key", "event_time", "envelope")


def _log_and_queue_statement() -> Select[tuple[str, str]]:
    """One statement, so one round trip and all or nothing: log the submitted events that are
    new (the unique source and id is the dedup mark), queue exactly those in the outbox, and
    return their identities. A copy already logged is neither logged nor queued again."""
    text_array, time_array = ARRAY(Text), ARRAY(DateTime(timezone=True))
    submitted = (
        func.unnest(
            *(
                bindparam(name, type_=time_array if name == "event_time" else text_array)
                for name in LOGGED
            )
        )
        .table_valued(*LOGGED, with_ordinality="position")
        .render_derived(with_types=False)
    )
    logged = (
        pg_insert(INGEST_LOG)
        .from_select(
            list(LOGGED),
            select(*(submitted.c[name] for name in LOGGED)).order_by(submitted.c.position),
        )
        .on_conflict_do_nothing(index_elements=["source", "event_id"])
        .returning(
            *(
                INGEST_LOG.c[name]
                for name in ("seq", "source", "event_id", "topic", "key", "envelope")
            )
        )
        .cte("logged")
    )
    queued = enqueue_rows(
        select(
            logged.c.topic,
            logged.c.key,
            func.convert_to(logged.c.envelope, "UTF8"),
            bindparam("headers", type_=JSONB),
        ).order_by(logged.c.seq)
    ).cte("queued")
    return select(logged.c.source, logged.c.event_id).add_cte(queued)


LOG_AND_QUEUE = _log_and_queue_statement()


async def log_and_queue(
    session: AsyncSession, columns: dict[str, list[object]], headers: list[list[str]]
) -> set[Identity]:
    """Returns the (source, id) of the events logged (and queued) by this call."""
    if not columns["source"]:
        return set()
    rows = await session.execute(LOG_AND_QUEUE, {**columns, "headers": headers})
    return {(row.source, row.event_id) for row in rows}


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
    column = col(IngestedEvent.ingested_at if by == "ingested_at" else IngestedEvent.event_time)
    chosen = select(
        col(IngestedEvent.topic),
        col(IngestedEvent.key),
        func.convert_to(col(IngestedEvent.envelope), "UTF8"),
        literal(headers, JSONB()),
    ).where(column >= start, column < end)
    if types:
        chosen = chosen.where(col(IngestedEvent.type).in_(types))
    result = await session.execute(enqueue_rows(chosen.order_by(col(IngestedEvent.seq))))
    return int(getattr(result, "rowcount", 0) or 0)
