"""The transactional outbox: messages leave only after the state change that caused them commits.

`enqueue` writes into the caller's transaction. The relay reads committed rows in id order,
publishes them, waits for the broker's acknowledgement and only then deletes them, so a crash at
any point publishes a message again rather than never (consumers deduplicate by event id).
"""

import asyncio
import logging
from collections.abc import Sequence
from contextlib import suppress
from datetime import datetime
from typing import Any

from sqlalchemy import Insert, Select, delete, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlmodel import col, select

from keel import context
from keel.kafka.publisher import Message, Publisher
from keel.metrics import OUTBOX_LAG, OUTBOX_PUBLISHED
from keel.runtime import Runtime
from keel.stopping import sleep_unless_stopped
from keel.tables import OUTBOX, OUTBOX_NOTIFY_CHANNEL, OutboxMessage

logger = logging.getLogger(__name__)


def trace_headers() -> list[list[str]]:
    """The headers an outbox row stores: the current trace (`traceparent`), continued, so
    consumers log the request that caused the message."""
    return [[name, value.decode()] for name, value in context.kafka_headers()]


async def enqueue(session: AsyncSession, messages: Sequence[Message]) -> None:
    """Add messages to the outbox inside the caller's transaction (the caller commits).

    A statement trigger NOTIFYs the relay; it is delivered at commit, and not on rollback.
    """
    if not messages:
        return
    headers = trace_headers()
    await session.execute(
        insert(OUTBOX),
        [{"topic": m.topic, "key": m.key, "value": m.value, "headers": headers} for m in messages],
    )


def enqueue_rows(rows: Select[Any]) -> Insert:
    """An INSERT into the outbox from a select of (topic, key, value, headers), for set-based
    writers (replays, or a CTE that queues what it has just inserted)."""
    return insert(OUTBOX).from_select(["topic", "key", "value", "headers"], rows)


class OutboxRelay:
    """Publishes committed outbox rows, woken by NOTIFY at commit, polling only as a fallback."""

    def __init__(
        self,
        runtime: Runtime,
        publisher: Publisher,
        *,
        batch_size: int = 1000,
        fallback_poll_s: float = 1.0,
        max_backoff_s: float = 5.0,
    ) -> None:
        self.engine = runtime.engine
        self.sessions = runtime.sessions
        self.clock = runtime.clock
        self.publisher = publisher
        self.batch_size = batch_size
        self.fallback_poll_s = fallback_poll_s
        self.max_backoff_s = max_backoff_s

    async def run(self, stopping: asyncio.Event) -> None:
        wake = asyncio.Event()
        backoff = 0.1
        async with _Listener(self.engine, wake) as listener:
            while not stopping.is_set():
                wake.clear()
                await listener.ensure()
                try:
                    published = await self.relay_once()
                except Exception:
                    logger.warning("outbox relay pass failed; retrying", exc_info=True)
                    await sleep_unless_stopped(stopping, backoff)
                    backoff = min(backoff * 2, self.max_backoff_s)
                    continue
                backoff = 0.1
                if published < self.batch_size:
                    await sleep_unless_stopped(stopping, self.fallback_poll_s, wake)

    async def relay_once(self) -> int:
        """Publish one batch; returns how many messages left."""
        async with self.sessions() as session:
            rows = (
                await session.scalars(
                    select(OutboxMessage)
                    .order_by(col(OutboxMessage.id))
                    .limit(self.batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            await self.publisher.publish(
                [
                    Message(
                        row.topic, row.key, row.value, [(n, v.encode()) for n, v in row.headers]
                    )
                    for row in rows
                ]
            )
            await session.execute(
                delete(OutboxMessage).where(col(OutboxMessage.id).in_([row.id for row in rows]))
            )
            await session.commit()
        self._observe(rows, self.clock.now())
        return len(rows)

    @staticmethod
    def _observe(rows: Sequence[OutboxMessage], acked_at: datetime) -> None:
        for row in rows:
            OUTBOX_PUBLISHED.labels(row.topic).inc()
            if row.created_at is not None:  # always, once read back from the database
                OUTBOX_LAG.observe(max((acked_at - row.created_at).total_seconds(), 0.0))


class _Listener:
    """A connection LISTENing for outbox commits; re-opened if the database drops it."""

    def __init__(self, engine: AsyncEngine, wake: asyncio.Event) -> None:
        self.engine = engine
        self.wake = wake
        self._connection: AsyncConnection | None = None

    async def __aenter__(self) -> "_Listener":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._close()

    async def ensure(self) -> None:
        """Listen if not listening; on failure, the relay falls back to polling until next pass."""
        driver = await self._driver()
        if driver is not None and not driver.is_closed():
            return
        await self._close()
        try:
            self._connection = await self.engine.connect()
            driver = await self._driver()
            assert driver is not None
            await driver.add_listener(OUTBOX_NOTIFY_CHANNEL, lambda *_: self.wake.set())
        except Exception:
            logger.warning("outbox relay cannot LISTEN; polling meanwhile", exc_info=True)
            await self._close()

    async def _driver(self) -> Any:
        if self._connection is None:
            return None
        raw = await self._connection.get_raw_connection()
        return raw.driver_connection

    async def _close(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            with suppress(Exception):
                await connection.close()
