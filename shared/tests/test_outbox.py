"""The transactional outbox: a message leaves only after its transaction commits, with its trace."""

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from keel import context
from keel.events import topics
from keel.events.catalogue import EVENTS
from keel.kafka.publisher import Publisher
from keel.outbox import OutboxRelay, enqueue
from keel.runtime import Runtime
from keel.settings import Settings
from keel.tables import OutboxMessage
from keel.testing import running


def example_event(event_id: str):  # type: ignore[no-untyped-def]
    spec = next(iter(EVENTS))
    envelope = EVENTS.envelope(
        spec.name, spec.example, id=event_id, source="test", time=datetime(2025, 1, 1, tzinfo=UTC)
    )
    return EVENTS.parse(envelope)


async def read_topic(settings: Settings, count: int) -> list[tuple[bytes, dict[str, bytes]]]:
    records = await running.read_topic(settings.kafka, topics.ACTIVITY.name, count, timeout_s=10)
    return [(record.value, dict(record.headers)) for record in records]


async def test_committed_messages_are_published_with_their_trace_and_removed(
    settings: Settings,
) -> None:
    runtime = Runtime.create(settings)
    trace = context.TraceContext.new()
    with context.bind(trace):
        async with runtime.sessions() as session:
            await enqueue(session, [example_event("e-1").message()])
            await session.commit()
        async with runtime.sessions() as session:
            await enqueue(session, [example_event("e-never").message()])
            await session.rollback()
    publisher = Publisher(settings.kafka)
    await publisher.start()
    try:
        published = await OutboxRelay(runtime, publisher).relay_once()
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


class CrashAfterSend(Publisher):
    """A relay process that dies after the broker has the messages, before it deletes the rows."""

    async def publish(self, messages):  # type: ignore[no-untyped-def]
        await super().publish(messages)
        raise ConnectionError("process killed after publishing")


async def test_a_relay_that_dies_after_publishing_publishes_again_never_less(
    settings: Settings,
) -> None:
    runtime = Runtime.create(settings)
    async with runtime.sessions() as session:
        await enqueue(session, [example_event("e-1").message()])
        await session.commit()
    crashing, healthy = CrashAfterSend(settings.kafka), Publisher(settings.kafka)
    await crashing.start()
    await healthy.start()
    try:
        with pytest.raises(ConnectionError):
            await OutboxRelay(runtime, crashing).relay_once()
        republished = await OutboxRelay(runtime, healthy).relay_once()
        copies = await read_topic(settings, 2)
    finally:
        await crashing.stop()
        await healthy.stop()
        await runtime.close()
    assert republished == 1
    (first, _), (second, _) = copies
    assert first == second


async def test_a_running_relay_is_woken_by_the_commit_not_by_polling(settings: Settings) -> None:
    runtime = Runtime.create(settings)
    publisher = Publisher(settings.kafka)
    await publisher.start()
    relay = OutboxRelay(runtime, publisher, fallback_poll_s=60)
    stopping = asyncio.Event()
    task = asyncio.create_task(relay.run(stopping))
    try:
        await asyncio.sleep(1)  # the relay has found the outbox empty and waits
        async with runtime.sessions() as session:
            await enqueue(session, [example_event("e-notified").message()])
            await session.commit()
        [(value, _)] = await read_topic(settings, 1)  # fails after 10 s, far below 60
    finally:
        stopping.set()
        await task
        await publisher.stop()
        await runtime.close()
    assert b'"id":"e-notified"' in value
