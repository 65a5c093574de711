"""keel_consumer_lag_messages on a real broker: measured from outside the group, so it grows
while the consumer is stopped and falls back to zero once it catches up."""

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from prometheus_client import REGISTRY

from keel.events import topics
from keel.events.catalogue import EVENTS
from keel.kafka.consumer import ConsumerLoop, Subscription
from keel.kafka.lag import LagMonitor
from keel.kafka.publisher import Message, Publisher
from keel.runtime import Runtime
from keel.settings import Settings
from keel.testing.running import eventually
from keel.testing.samples import activity_event

CONSUMER = "lag-test-consumer"


def activity(event_id: str) -> Message:
    event = activity_event(event_id, "2025-03-01T00:00:00Z", client_id="c-1")
    return Message(topics.ACTIVITY.name, "c-1", json.dumps(event).encode())


async def publish_one_by_one(publisher: Publisher, event_ids: range) -> None:
    """One record per produce batch: Tansu answers ListOffsets(latest) with the newest batch's
    base offset + 1, not the high watermark, so a batch of several would read as one."""
    for n in event_ids:
        await publisher.publish([activity(f"e-{n}")])


def lag() -> float:
    """The consumer's lag on the activity topic, summed over its partitions."""
    return sum(
        REGISTRY.get_sample_value(
            "keel_consumer_lag_messages",
            {"consumer": CONSUMER, "topic": topics.ACTIVITY.name, "partition": str(partition)},
        )
        or 0.0
        for partition in range(topics.ACTIVITY.partitions)
    )


class Running:
    """Loops started as tasks, each stopped on its own."""

    def __init__(self) -> None:
        self.tasks: dict[str, tuple[asyncio.Event, asyncio.Task[None]]] = {}

    def start(self, name: str, loop: ConsumerLoop | LagMonitor) -> None:
        stopping = asyncio.Event()
        self.tasks[name] = (stopping, asyncio.create_task(loop.run(stopping)))

    async def stop(self, name: str) -> None:
        stopping, task = self.tasks.pop(name)
        stopping.set()
        await asyncio.wait_for(task, 15)


@pytest.fixture
async def running() -> AsyncIterator[Running]:
    running = Running()
    yield running
    for name in list(running.tasks):
        await running.stop(name)


async def test_the_lag_gauge_grows_while_the_consumer_is_stopped_and_falls_when_it_resumes(
    settings: Settings, running: Running
) -> None:
    runtime = Runtime.create(settings)
    publisher = Publisher(settings.kafka)
    await publisher.start()
    # No handler for the type: the loop only acknowledges (records and commits) what it reads.
    subscription = Subscription(CONSUMER, [topics.ACTIVITY.name], {}, EVENTS)
    try:
        await publish_one_by_one(publisher, range(3))
        running.start("lag", LagMonitor(CONSUMER, [topics.ACTIVITY.name], settings.kafka, 0.1))
        await eventually(lambda: asyncio.sleep(0, lag() == 3))  # nothing committed yet

        consumer = ConsumerLoop(subscription, settings.kafka, runtime.sessions, publisher)
        running.start("consumer", consumer)
        await eventually(lambda: asyncio.sleep(0, lag() == 0))

        await running.stop("consumer")
        await publish_one_by_one(publisher, range(3, 8))
        await eventually(lambda: asyncio.sleep(0, lag() == 5))

        running.start("consumer", consumer)
        await eventually(lambda: asyncio.sleep(0, lag() == 0))
    finally:
        await publisher.stop()
        await runtime.close()
