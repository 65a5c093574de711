"""The transactional outbox: messages leave only after the state change that caused them commits.

`enqueue` writes into the caller's transaction. The relay takes committed rows in id order,
publishes them, waits for the broker's acknowledgement and only then commits their deletion, so a
crash at any point publishes a message again rather than never (consumers deduplicate by event id).
"""

import asyncio
import json
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import Insert, Select, insert
from sqlalchemy.ext.asyncio import AsyncSession

from keel import context
from keel.kafka.publisher import Message, Publisher
from keel.metrics import OUTBOX_LAG, OUTBOX_PUBLISHED
from keel.runtime import Runtime
from keel.stopping import sleep_unless_stopped
from keel.tables import OUTBOX

logger = logging.getLogger(__name__)


def trace_headers() -> list[list[str]]:
    """The headers an outbox row stores: the current trace (`traceparent`), continued, so
    consumers log the request that caused the message."""
    return [[name, value.decode()] for name, value in context.kafka_headers()]


async def enqueue(session: AsyncSession, messages: Sequence[Message]) -> None:
    """Add messages to the outbox inside the caller's transaction (the caller commits)."""
    if not messages:
        return
    headers = trace_headers()
    await session.execute(
        insert(OUTBOX),
        [{"topic": m.topic, "key": m.key, "value": m.value, "headers": headers} for m in messages],
    )


ENQUEUE = """
INSERT INTO outbox_message (topic, key, value, headers)
SELECT topic, key, value, $4::text::jsonb
FROM unnest($1::text[], $2::text[], $3::bytea[]) AS m(topic, key, value)
"""


async def enqueue_raw(connection: asyncpg.Connection, messages: Sequence[Message]) -> None:
    """`enqueue` on a plain asyncpg connection, for hot paths (the caller commits)."""
    if messages:
        await connection.execute(
            ENQUEUE,
            [m.topic for m in messages],
            [m.key for m in messages],
            [m.value for m in messages],
            json.dumps(trace_headers()),
        )


def enqueue_rows(rows: Select[Any]) -> Insert:
    """An INSERT into the outbox from a select of (topic, key, value, headers), for set-based
    writers (replays, or a CTE that queues what it has just inserted)."""
    return insert(OUTBOX).from_select(["topic", "key", "value", "headers"], rows)


# One statement takes a batch: the rows stay locked (and other relays skip them) until the
# transaction ends, and are gone only if it commits, which it does after the broker acknowledged.
# `= ANY(ARRAY(...))`, not `IN (...)`: the planner then deletes by the primary key; with IN it
# hashed the batch and scanned the whole outbox, so a backlog made every batch slower.
TAKE_BATCH = """
DELETE FROM outbox_message WHERE id = ANY(ARRAY(
    SELECT id FROM outbox_message ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED
))
RETURNING id, topic, key, value, headers::text AS headers, created_at
"""


def next_pause(
    published: int, batch_size: int, previous: float, *, least: float, most: float
) -> float:
    """How long the relay waits before its next pass (adaptive polling).

    A full batch: go again at once, more is waiting. Some: wait `least`, so a busy outbox is
    taken in batches. None: wait twice as long as last time, up to `most`, so an idle outbox
    costs a cheap query now and then and a message after a quiet spell waits at most `most`.
    """
    if published >= batch_size:
        return 0.0
    if published:
        return least
    return min(max(previous * 2, least), most)


class OutboxRelay:
    """Publishes committed outbox rows in batches, polling adaptively.

    Commits do not notify the relay: a NOTIFY takes a database-wide lock held through COMMIT,
    which made every writing transaction commit one at a time.
    """

    def __init__(
        self,
        runtime: Runtime,
        publisher: Publisher,
        *,
        batch_size: int = 1000,
        busy_poll_s: float = 0.005,
        idle_poll_s: float = 0.1,
        max_backoff_s: float = 5.0,
    ) -> None:
        self.raw = runtime.raw
        self.clock = runtime.clock
        self.publisher = publisher
        self.batch_size = batch_size
        self.busy_poll_s = busy_poll_s
        self.idle_poll_s = idle_poll_s
        self.max_backoff_s = max_backoff_s

    async def run(self, stopping: asyncio.Event) -> None:
        backoff = 0.1
        pause = 0.0
        while not stopping.is_set():
            try:
                published = await self.relay_once()
            except Exception:
                logger.warning("outbox relay pass failed; retrying", exc_info=True)
                await sleep_unless_stopped(stopping, backoff)
                backoff = min(backoff * 2, self.max_backoff_s)
                continue
            backoff = 0.1
            pause = next_pause(
                published,
                self.batch_size,
                pause,
                least=self.busy_poll_s,
                most=self.idle_poll_s,
            )
            if pause:
                await sleep_unless_stopped(stopping, pause)

    async def relay_once(self) -> int:
        """Publish one batch; returns how many messages left."""
        rows = await self.raw.transaction(self._take_and_publish)
        self._observe(rows, self.clock.now())
        return len(rows)

    async def _take_and_publish(self, connection: asyncpg.Connection) -> list[asyncpg.Record]:
        rows = sorted(await connection.fetch(TAKE_BATCH, self.batch_size), key=lambda r: r["id"])
        if rows:
            await self.publisher.publish(
                [
                    Message(
                        row["topic"],
                        row["key"],
                        row["value"],
                        [(name, value.encode()) for name, value in json.loads(row["headers"])],
                    )
                    for row in rows
                ]
            )
        return rows

    @staticmethod
    def _observe(rows: Sequence[asyncpg.Record], acked_at: datetime) -> None:
        for row in rows:
            OUTBOX_PUBLISHED.labels(row["topic"]).inc()
            OUTBOX_LAG.observe(max((acked_at - row["created_at"]).total_seconds(), 0.0))
