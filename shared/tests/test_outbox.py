"""The transactional outbox: a message leaves only after its transaction commits, with its trace."""

import asyncio
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer
from keel import context
from keel.clock import SystemClock
from keel.events import topics
from keel.events.catalogue import EVENTS
from keel.kafka.publisher import Publisher
from keel.outbox import OutboxRelay, enqueue
from keel.runtime import Runtime
from keel.settings import Settings
from keel.tables import OutboxMessage
from sqlalchemy import func, select


def example_event(event_id: str):  # type: ignore[no-untyped-def]
    spec = next(iter(EVENTS))
    envelope = EVENTS.envelope(
        spec.example, id=event_id, source="test", time=datetime(2025, 1, 1, tzinfo=UTC)
    )
    return EVENTS.parse(envelope)


async def read_topic(settings: Settings, count: int) -> list[tuple[bytes, dict[str, bytes]]]:
    consumer = AIOKafkaConsumer(
        settings.kafka.topic(topics.ACTIVITY.name),
        bootstrap_servers=settings.kafka.bootstrap_servers,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    found = []
    try:
        async with asyncio.timeout(10):
            while len(found) < count:
                record = await consumer.getone()
                found.append((record.value, dict(record.headers)))
    finally:
        await consumer.stop()
    return found


async def test_committed_messages_are_published_with_their_trace_and_removed(
    settings: Settings,
) -> None:
    runtime = Runtime.create(settings)
    trace = context.TraceContext.new()
    with context.bind(trace):
        async with runtime.sessions() as session:
            enqueue(session, [example_event("e-1")])
            await session.commit()
        async with runtime.sessions() as session:
            enqueue(session, [example_event("e-never")])
            await session.rollback()
    publisher = Publisher(settings.kafka)
    await publisher.start()
    try:
        published = await OutboxRelay(runtime.sessions, publisher, SystemClock()).relay_once()
        [(value, headers)] = await read_topic(settings, 1)
        async with runtime.sessions() as session:
            left = await session.scalar(select(func.count()).select_from(OutboxMessage))
    finally:
        await publisher.stop()
        await runtime.close()

    assert published == 1
    assert b'"id":"e-1"' in value
    assert context.TraceContext.parse(headers["traceparent"].decode()).trace_id == trace.trace_id  # type: ignore[union-attr]
    assert left == 0
