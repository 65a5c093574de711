"""The transactional outbox: messages leave only after the state change that caused them commits.

`enqueue` writes into the caller's transaction. The relay reads committed rows in id order,
publishes them, waits for the broker's acknowledgement and only then deletes them, so a crash at
any point publishes a message again rather than never (consumers deduplicate by event id).
"""

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from keel import context
from keel.clock import Clock
from keel.db import SessionFactory
from keel.events.registry import Event
from keel.kafka.publisher import Message, Publisher
from keel.metrics import OUTBOX_LAG, OUTBOX_PUBLISHED
from keel.stopping import sleep_unless_stopped
from keel.tables import OutboxMessage

logger = logging.getLogger(__name__)


def event_message(event: Event[Any]) -> Message:
    return Message(event.topic, event.key, event.envelope.to_json())


async def enqueue(session: AsyncSession, messages: Sequence[Message]) -> None:
    """Add messages to the outbox inside the caller's transaction (the caller commits).

    Each carries the current trace (`traceparent`) so consumers log the request that caused it.
    """
    if not messages:
        return
    headers = [[name, value.decode()] for name, value in context.kafka_headers()]
    await session.execute(
        insert(OutboxMessage),
        [{"topic": m.topic, "key": m.key, "value": m.value, "headers": headers} for m in messages],
    )


class OutboxRelay:
    def __init__(
        self,
        sessions: SessionFactory,
        publisher: Publisher,
        clock: Clock,
        *,
        batch_size: int = 1000,
        idle_interval_s: float = 0.02,
        max_backoff_s: float = 5.0,
    ) -> None:
        self.sessions = sessions
        self.publisher = publisher
        self.clock = clock
        self.batch_size = batch_size
        self.idle_interval_s = idle_interval_s
        self.max_backoff_s = max_backoff_s

    async def run(self, stopping: asyncio.Event) -> None:
        backoff = self.idle_interval_s
        while not stopping.is_set():
            try:
                published = await self.relay_once()
                backoff = self.idle_interval_s
            except Exception:
                logger.warning("outbox relay pass failed; retrying", exc_info=True)
                published = 0
                backoff = min(backoff * 2 or self.idle_interval_s, self.max_backoff_s)
            if published < self.batch_size:
                await sleep_unless_stopped(stopping, backoff)

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
