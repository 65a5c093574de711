"""Queries of the ingest log; never commits."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import asyncpg
from sqlalchemy import func, literal, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from activity_ingest.tables import IngestedEvent
from keel.outbox import enqueue_rows

Identity = tuple[str, str]

# One statement, so one round trip and all or nothing: log the submitted events that are new
# (the unique source and id is the dedup mark), queue exactly those in the outbox with their
# request's trace, and return their identities. A copy already logged is neither logged nor
# queued again. Raw SQL on asyncpg: prepared once per connection, no ORM or Core compilation.
LOG_AND_QUEUE = """
WITH submitted AS (
    SELECT * FROM unnest(
        $1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[],
        $7::text[], $8::text[]
    ) WITH ORDINALITY
        AS s(source, event_id, type, topic, key, event_time, envelope, headers, position)
), logged AS (
    INSERT INTO ingested_event (source, event_id, type, topic, key, event_time, envelope)
    SELECT source, event_id, type, topic, key, event_time, envelope
    FROM submitted ORDER BY position
    ON CONFLICT (source, event_id) DO NOTHING
    RETURNING seq, source, event_id, topic, key, envelope
), queued AS (
    INSERT INTO outbox_message (topic, key, value, headers)
    SELECT logged.topic, logged.key, convert_to(logged.envelope, 'UTF8'), submitted.headers::jsonb
    FROM logged JOIN submitted USING (source, event_id)
    ORDER BY logged.seq
)
SELECT source, event_id FROM logged
"""


@dataclass(frozen=True, slots=True)
class LogRow:
    """One event to log and queue; `headers` is the outbox headers' JSON (the request's trace)."""

    source: str
    event_id: str
    type: str
    topic: str
    key: str
    event_time: datetime
    envelope: str
    headers: str

    @property
    def identity(self) -> Identity:
        return (self.source, self.event_id)


async def log_and_queue(connection: asyncpg.Connection, rows: Sequence[LogRow]) -> set[Identity]:
    """Returns the (source, id) of the events logged (and queued) by this call. `rows` hold
    each identity once."""
    if not rows:
        return set()
    columns = [[getattr(row, name) for row in rows] for name in LogRow.__slots__]
    return {(row[0], row[1]) for row in await connection.fetch(LOG_AND_QUEUE, *columns)}


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
