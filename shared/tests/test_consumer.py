"""The consumer loop against real PostgreSQL and Kafka: once per event id, DLQ, retry, resume;
a poison event in a batch is found and dead-lettered alone (issue 12, point 1), and a handler
for a type the registry does not know stops the consumer at start (issue 12, point 2)."""

import asyncio
import json
import os
import sys
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from keel.errors import PoisonMessage
from keel.events import topics
from keel.events.catalogue import ACTIVITY_PERFORMED, EVENTS
from keel.events.payloads.activity import ActivityPerformedV1
from keel.events.registry import Event
from keel.kafka.consumer import ConsumerLoop, Subscription
from keel.kafka.publisher import Message, Publisher
from keel.runtime import Runtime
from keel.settings import Settings
from keel.testing.running import eventually, message_count, read_topic
from keel.testing.samples import produced

Handler = Callable[[AsyncSession, Event[Any]], Awaitable[None]]
BatchHook = Callable[[AsyncSession, Sequence[Event[Any]]], Awaitable[None]]


def activity(event_id: str, user_id: str = "u-1") -> Message:
    payload = ActivityPerformedV1(
        user_id=user_id,
        user_email=f"{user_id}@agency.example",
        client_id="c-1",
        tool="blog",
        action="blog.post_published",
    )
    when = datetime(2025, 3, 1, tzinfo=UTC)
    return produced(ACTIVITY_PERFORMED, payload, when, event_id)


class Harness:
    """A consumer over the activity topic whose handler writes a row per application."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.runtime = Runtime.create(settings)
        self.publisher = Publisher(settings.kafka)
        self.calls: Counter[str] = Counter()
        self.fail: Callable[[Event[Any], int], None] = lambda event, attempt: None
        self.after_batch: BatchHook | None = None

    async def handler(self, session: AsyncSession, event: Event[Any]) -> None:
        self.calls[event.envelope.id] += 1
        self.fail(event, self.calls[event.envelope.id])
        await session.execute(
            text("INSERT INTO seen (event_id) VALUES (:id)"), {"id": event.envelope.id}
        )

    def loop(self) -> ConsumerLoop:
        subscription = Subscription(
            name="test-consumer",
            topics=[topics.ACTIVITY.name],
            handlers={"activity.performed": self.handler},
            registry=EVENTS,
            after_batch=self.after_batch,
        )
        return ConsumerLoop(
            subscription,
            self.settings.kafka,
            self.runtime.sessions,
            self.publisher,
            max_backoff_s=0.2,
        )

    async def rows(self, sql: str) -> list[Any]:
        async with self.runtime.engine.connect() as connection:
            return list((await connection.execute(text(sql))).all())

    async def seen(self) -> list[str]:
        return [row[0] for row in await self.rows("SELECT event_id FROM seen ORDER BY 1")]


@asynccontextmanager
async def harnessed(settings: Settings) -> AsyncIterator[Harness]:
    harness = Harness(settings)
    async with harness.runtime.engine.begin() as connection:
        await connection.execute(text("CREATE TABLE seen (event_id text NOT NULL)"))
    await harness.publisher.start()
    try:
        yield harness
    finally:
        await harness.publisher.stop()
        await harness.runtime.close()


@pytest.fixture
async def harness(settings: Settings) -> AsyncIterator[Harness]:
    async with harnessed(settings) as harness:
        yield harness


async def run_until(harness: Harness, done: Callable[[], Awaitable[Any]]) -> None:
    stopping = asyncio.Event()
    task = asyncio.create_task(harness.loop().run(stopping))
    try:
        await eventually(done)
    finally:
        stopping.set()
        await asyncio.wait_for(task, 15)


async def dead_letters(settings: Settings, count: int) -> list[dict[str, str]]:
    records = await read_topic(settings.kafka, f"{topics.ACTIVITY.name}.dlq", count, timeout_s=15)
    return [{k: v.decode() for k, v in record.headers} for record in records]


async def keel_dlq(settings: Settings, topic: str) -> list[dict[str, Any]]:
    """The `keel-dlq` command's lines (what `make dlq TOPIC=...` prints)."""
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
        "KAFKA_TOPIC_PREFIX": settings.kafka.topic_prefix,
    }
    process = await asyncio.create_subprocess_exec(
        Path(sys.executable).parent / "keel-dlq", topic, env=env, stdout=asyncio.subprocess.PIPE
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0
    return [json.loads(line) for line in output.splitlines()]


async def test_an_event_delivered_twice_is_applied_once(harness: Harness) -> None:
    # One client, so one partition: the sentinel is applied only after both copies of e-1.
    await harness.publisher.publish(
        [activity("e-1"), activity("e-1"), activity("e-2"), activity("sentinel")]
    )

    async def sentinel_applied() -> bool:
        return bool(await harness.rows("SELECT 1 FROM applied_event WHERE event_id = 'sentinel'"))

    await run_until(harness, sentinel_applied)

    assert await harness.seen() == ["e-1", "e-2", "sentinel"]
    assert harness.calls == {"e-1": 1, "e-2": 1, "sentinel": 1}


async def test_messages_that_cannot_be_applied_go_to_the_dlq_with_a_reason(
    harness: Harness,
) -> None:
    unknown = activity("e-x").value.replace(b"activity.performed", b"activity.unknown")
    await harness.publisher.publish(
        [
            Message(topics.ACTIVITY.name, "c-1", b"this is not json"),
            Message(topics.ACTIVITY.name, "c-1", unknown),
            activity("e-good"),
        ]
    )

    async def good_applied() -> list[str]:
        return await harness.seen()

    await run_until(harness, good_applied)
    letters = await dead_letters(harness.settings, 2)

    assert sorted(letter["dlq-reason"] for letter in letters) == [
        "not_a_cloudevent",
        "unknown_type",
    ]
    assert all(letter["dlq-consumer"] == "test-consumer" for letter in letters)
    assert await harness.seen() == ["e-good"]


async def test_a_poison_event_is_dead_lettered_alone_and_its_batch_still_applies(
    harness: Harness,
) -> None:
    def refuse_mallory(event: Event[Any], attempt: int) -> None:
        if event.payload.user_id == "mallory":
            raise PoisonMessage("unknown_currency", "currency XXX has no rate table")

    harness.fail = refuse_mallory
    await harness.publisher.publish(
        [activity("e-1"), activity("e-2", user_id="mallory"), activity("e-3")]
    )

    async def others_applied() -> bool:
        return len(await harness.seen()) == 2

    await run_until(harness, others_applied)
    [letter] = await dead_letters(harness.settings, 1)

    assert letter["dlq-reason"] == "unknown_currency"
    assert letter["dlq-detail"] == "currency XXX has no rate table"
    assert letter["dlq-exception"] == "keel.errors.PoisonMessage"
    assert await harness.seen() == ["e-1", "e-3"]
    applied = await harness.rows("SELECT event_id FROM applied_event ORDER BY 1")
    assert [row[0] for row in applied] == ["e-1", "e-3"]


async def test_a_transient_failure_rolls_back_the_batch_and_retries_it(harness: Harness) -> None:
    def database_away_once(event: Event[Any], attempt: int) -> None:
        if event.envelope.id == "e-2" and attempt == 1:
            raise ConnectionError("database went away")

    harness.fail = database_away_once
    await harness.publisher.publish([activity("e-1"), activity("e-2"), activity("e-3")])

    async def all_applied() -> bool:
        return len(await harness.seen()) == 3

    await run_until(harness, all_applied)

    assert await harness.seen() == ["e-1", "e-2", "e-3"]
    assert harness.calls["e-2"] == 2
    # e-1 was in the rolled-back batch too: it was applied again, and still counted once.
    assert len(await harness.rows("SELECT 1 FROM applied_event")) == 3


async def test_a_restarted_consumer_resumes_after_the_committed_offset(harness: Harness) -> None:
    await harness.publisher.publish([activity("e-1"), activity("e-2")])

    async def two_applied() -> bool:
        return len(await harness.seen()) == 2

    await run_until(harness, two_applied)
    await harness.publisher.publish([activity("e-3")])

    async def three_applied() -> bool:
        return len(await harness.seen()) == 3

    await run_until(harness, three_applied)

    assert harness.calls == {"e-1": 1, "e-2": 1, "e-3": 1}


async def test_the_loop_stops_promptly_when_asked(harness: Harness) -> None:
    stopping = asyncio.Event()
    task = asyncio.create_task(harness.loop().run(stopping))
    await asyncio.sleep(1.5)
    stopping.set()
    await asyncio.wait_for(task, 10)
    assert task.exception() is None


def hundred_with_mallory_at(position: int) -> list[Message]:
    return [
        activity(f"e-{n:03}", user_id="mallory" if n == position else f"u-{n}") for n in range(100)
    ]


async def test_a_handler_failing_on_one_event_of_a_hundred_dead_letters_exactly_that_one(
    harness: Harness,
) -> None:
    """Issue 12, point 1: any error that is not transient, not only a PoisonMessage."""

    def crash_on_mallory(event: Event[Any], attempt: int) -> None:
        if event.payload.user_id == "mallory":
            raise KeyError("mallory")

    harness.fail = crash_on_mallory
    await harness.publisher.publish(hundred_with_mallory_at(37))

    async def others_applied() -> bool:
        return len(await harness.seen()) == 99

    await run_until(harness, others_applied)
    [letter] = await dead_letters(harness.settings, 1)

    assert letter["dlq-reason"] == "handler_error"
    assert letter["dlq-exception"] == "builtins.KeyError"
    assert letter["dlq-offset"] == "37"
    [listed] = await keel_dlq(harness.settings, topics.ACTIVITY.name)
    assert (listed["reason"], listed["exception"]) == ("handler_error", "builtins.KeyError")
    assert listed["message"]["id"] == "e-037"
    assert "e-037" not in await harness.seen()
    applied = await harness.rows("SELECT event_id FROM applied_event")
    assert sorted(row[0] for row in applied) == [f"e-{n:03}" for n in range(100) if n != 37]


async def test_a_batch_hook_failing_because_of_one_event_dead_letters_exactly_that_one(
    harness: Harness,
) -> None:
    """Issue 12, point 1: the per-batch step is traced to its event like a handler."""
    hooked: list[int] = []

    async def refuse_batches_with_mallory(
        session: AsyncSession, events: Sequence[Event[Any]]
    ) -> None:
        hooked.append(len(events))
        for event in events:
            if event.payload.user_id == "mallory":
                raise LookupError("no policy version in force on 2015-05-31")
            await session.execute(
                text("INSERT INTO seen (event_id) VALUES (:id)"),
                {"id": f"batch-{event.envelope.id}"},
            )

    harness.after_batch = refuse_batches_with_mallory
    await harness.publisher.publish(hundred_with_mallory_at(62))

    async def others_applied() -> bool:
        return len(await harness.seen()) == 2 * 99

    await run_until(harness, others_applied)
    [letter] = await dead_letters(harness.settings, 1)

    assert letter["dlq-reason"] == "handler_error"
    assert letter["dlq-exception"] == "builtins.LookupError"
    assert "no policy version in force on 2015-05-31" in letter["dlq-detail"]
    assert letter["dlq-offset"] == "62"
    seen = await harness.seen()
    assert "e-062" not in seen
    assert "batch-e-062" not in seen
    assert len(seen) == 2 * 99
    assert hooked[0] == 100, "the hundred events came as one batch"


async def test_a_transient_failure_in_the_batch_hook_is_retried_and_nothing_dead_lettered(
    harness: Harness,
) -> None:
    """Issue 12, point 1: the database away is no poison; the batch is retried whole."""
    attempts: list[int] = []

    async def database_away_once(session: AsyncSession, events: Sequence[Event[Any]]) -> None:
        attempts.append(len(events))
        if len(attempts) == 1:
            raise ConnectionError("database went away")

    harness.after_batch = database_away_once
    await harness.publisher.publish([activity("e-1"), activity("e-2"), activity("e-3")])

    async def all_applied() -> bool:
        return len(await harness.rows("SELECT 1 FROM applied_event")) == 3

    await run_until(harness, all_applied)

    assert attempts == [3, 3]
    assert await message_count(harness.settings.kafka, f"{topics.ACTIVITY.name}.dlq") == 0


async def noop(session: AsyncSession, event: Event[Any]) -> None:
    return None


def test_a_handler_for_a_type_the_registry_does_not_know_stops_the_consumer_at_start() -> None:
    """Issue 12, point 2: a misspelt type would otherwise be acknowledged and ignored forever."""
    with pytest.raises(ValueError, match=r"registry does not know: activity\.perfomed"):
        Subscription(
            name="typo",
            topics=[topics.ACTIVITY.name],
            handlers={"activity.perfomed": noop},
            registry=EVENTS,
        )


def test_a_handler_for_a_type_on_a_topic_not_read_stops_the_consumer_at_start() -> None:
    """Issue 12, point 2: such a handler would never be called."""
    with pytest.raises(ValueError, match=r"deal.closed \(on deal.events.v1\)"):
        Subscription(
            name="deaf",
            topics=[topics.ACTIVITY.name],
            handlers={"deal.closed": noop},
            registry=EVENTS,
        )


async def test_a_message_too_large_to_dead_letter_whole_is_dead_lettered_without_it(
    settings: Settings,
) -> None:
    """A letter is the message plus its dlq headers: for a message near the producer's limit it
    would not fit, and publishing it would fail for ever, stopping the consumer."""
    limit = 64 * 1024
    small = settings.model_copy(
        update={"kafka": settings.kafka.model_copy(update={"max_request_size": limit})}
    )
    huge = b"x" * (limit - 300)  # publishable alone, not with the letter's headers
    async with harnessed(small) as harness:
        await harness.publisher.publish(
            [Message(topics.ACTIVITY.name, "c-1", huge), activity("e-after")]
        )

        async def after_applied() -> bool:
            return await harness.seen() == ["e-after"]

        await run_until(harness, after_applied)
        [record] = await read_topic(small.kafka, f"{topics.ACTIVITY.name}.dlq", 1, timeout_s=15)

    headers = {k: v.decode() for k, v in record.headers}
    assert (headers["dlq-reason"], headers["dlq-offset"]) == ("not_a_cloudevent", "0")
    assert headers["dlq-value-omitted"] == str(len(huge))
    assert record.value in (None, b"")
