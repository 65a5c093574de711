"""Running services inside a test: an app behind an httpx client, a worker as a task."""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any, TypeVar

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from fastapi import FastAPI

from keel.kafka.publisher import Message, Publisher
from keel.settings import KafkaSettings
from keel.worker import Worker

T = TypeVar("T")


def bearer(token: str) -> dict[str, str]:
    """The Authorization header carrying a token."""
    return {"Authorization": f"Bearer {token}"}


@asynccontextmanager
async def app_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan run, spoken to in-process over ASGI."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


class AppsTransport(httpx.AsyncBaseTransport):
    """Routes each request to the in-process app its host names (`http://credit-ledger/...`):
    services calling services over HTTP inside one test. An unknown host is a connection error,
    as a service that is down would be."""

    def __init__(self, apps: Mapping[str, FastAPI]) -> None:
        self.transports = {host: httpx.ASGITransport(app=app) for host, app in apps.items()}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        transport = self.transports.get(request.url.host)
        if transport is None:
            raise httpx.ConnectError(f"nothing listens at {request.url.host}", request=request)
        return await transport.handle_async_request(request)


@asynccontextmanager
async def serving(apps: Mapping[str, FastAPI]) -> AsyncIterator[AppsTransport]:
    """The apps with their lifespans run, reachable by host name through the transport."""
    async with AsyncExitStack() as stack:
        for app in apps.values():
            await stack.enter_async_context(app.router.lifespan_context(app))
        yield AppsTransport(apps)


@asynccontextmanager
async def running(worker: Worker) -> AsyncIterator[asyncio.Event]:
    """The worker's loops run until the block ends; then they stop as on SIGTERM."""
    stopping = asyncio.Event()
    task = asyncio.create_task(worker.run(stopping))
    try:
        yield stopping
    finally:
        stopping.set()
        await asyncio.wait_for(task, 30)


async def ingest_all(
    ingest: httpx.AsyncClient, events: Sequence[dict[str, Any]], token: str
) -> None:
    """Post the events to activity-ingest as one batch; every one of them must be accepted."""
    answer = await ingest.post(
        "/v1/events",
        json=list(events),
        headers={**bearer(token), "content-type": "application/cloudevents-batch+json"},
    )
    assert answer.json()["accepted"] == len(events), answer.json()


async def eventually(
    probe: Callable[[], Awaitable[T | None]], *, timeout_s: float = 20.0, interval_s: float = 0.05
) -> T:
    """Poll `probe` until it returns something truthy; fail with a clear message on timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = await probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s}s (last value: {result!r})")
        await asyncio.sleep(interval_s)


async def publish(kafka: KafkaSettings, messages: Sequence[Message]) -> None:
    """Put messages on their (logical) topics, as an upstream producer would."""
    publisher = Publisher(kafka)
    await publisher.start()
    try:
        await publisher.publish(messages)
    finally:
        await publisher.stop()


async def read_topic(
    kafka: KafkaSettings, topic: str, count: int, *, timeout_s: float = 20.0
) -> list[Any]:
    """The first `count` records of a (logical) topic, from its start; fails after the timeout."""
    consumer = AIOKafkaConsumer(
        kafka.topic(topic), bootstrap_servers=kafka.bootstrap_servers, auto_offset_reset="earliest"
    )
    await consumer.start()
    found: list[Any] = []
    try:
        async with asyncio.timeout(timeout_s):
            while len(found) < count:
                found.append(await consumer.getone())
    finally:
        await consumer.stop()
    return found


async def message_count(kafka: KafkaSettings, topic: str, partition: int = 0) -> int:
    """How many records a (logical) topic's partition holds now: its end offset."""
    where = TopicPartition(kafka.topic(topic), partition)
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka.bootstrap_servers)
    await consumer.start()
    try:
        return int((await consumer.end_offsets([where]))[where])
    finally:
        await consumer.stop()
