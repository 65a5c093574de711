"""What `accepted` promises: durable in PostgreSQL before the answer, on Kafka eventually, even
with the broker down at that moment; and no dedup mark without its event."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from activity_ingest import repository
from activity_ingest.config import IngestServiceSettings
from activity_ingest.main import create_app
from activity_ingest.worker import build_worker
from keel.clock import FixedClock
from keel.events import topics
from keel.runtime import Runtime
from keel.settings import KafkaSettings
from keel.testing.running import app_client, read_topic, running
from keel.testing.samples import activity_event


async def on_kafka(kafka: KafkaSettings, count: int) -> list[bytes]:
    return [record.value for record in await read_topic(kafka, topics.ACTIVITY.name, count)]


async def test_events_accepted_while_the_broker_is_down_reach_kafka_once_it_answers(
    ingest_settings: IngestServiceSettings, producer: dict[str, str], clock: FixedClock
) -> None:
    broker_down = ingest_settings.model_copy(
        update={
            "kafka": ingest_settings.kafka.model_copy(update={"bootstrap_servers": "127.0.0.1:1"})
        }
    )
    async with app_client(create_app(broker_down, clock)) as ingest:
        ready = await ingest.get("/readyz")
        answer = await ingest.post(
            "/v1/events", json=activity_event("while-down", clock.now()), headers=producer
        )
    assert ready.json()["checks"]["kafka"].startswith("failing")
    assert answer.json()["results"][0]["status"] == "accepted"

    # The process that answered is gone; a worker started later, with the broker back, delivers.
    async with running(build_worker(Runtime.create(ingest_settings))):
        [value] = await on_kafka(ingest_settings.kafka, 1)
    assert b'"id":"while-down"' in value


async def test_a_failure_after_the_write_and_before_the_commit_leaves_no_mark(
    submit: Callable[..., Awaitable[httpx.Response]],
    count_rows: Callable[[str], Awaitable[int]],
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    event = activity_event("fault-1", clock.now())

    real = repository.log_and_queue

    async def write_then_crash(*args: Any) -> set[repository.Identity]:
        await real(*args)
        raise RuntimeError("injected fault: the process dies before the commit")

    with monkeypatch.context() as patched:
        patched.setattr(repository, "log_and_queue", write_then_crash)
        failed = await submit(event)
    assert failed.status_code == 500
    assert await count_rows("ingested_event") == 0

    retried = await submit(event)
    assert retried.json()["results"][0]["status"] == "accepted"
    assert await count_rows("ingested_event") == 1


async def test_concurrent_copies_of_one_event_are_accepted_exactly_once(
    submit: Callable[..., Awaitable[httpx.Response]], clock: FixedClock
) -> None:
    event = activity_event("race-1", clock.now())
    answers = await asyncio.gather(*(submit(event) for _ in range(20)))
    statuses = sorted(answer.json()["results"][0]["status"] for answer in answers)
    assert statuses == ["accepted"] + ["duplicate"] * 19
