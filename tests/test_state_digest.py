"""Issue 12 point 8: every service's state digest is independent of arrival order and duplicates.

One event set (partners, users, clients, activities over several months, a removal, a deal) goes
through activity-ingest in three arrival orders, one of them with every event sent twice, and
once more as a full replay of the first run's accepted log. Each run has fresh databases and
topics, and runs the whole pipeline: ingest, the ledger and tier workers, capacity (one lead
registered over HTTP, the tiers of the rollups). The four digests agree across all runs (T3, M8).
"""

import json
import random
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from activity_ingest.config import SERVICE_NAME as INGEST
from activity_ingest.config import IngestServiceSettings
from activity_ingest.main import create_app as create_ingest_app
from activity_ingest.migrate import MIGRATIONS as INGEST_MIGRATIONS
from activity_ingest.worker import build_worker as build_ingest_worker
from capacity.config import SERVICE_NAME as CAPACITY
from capacity.main import create_app as create_capacity_app
from capacity.migrate import MIGRATIONS as CAPACITY_MIGRATIONS
from capacity.worker import build_worker as build_capacity_worker
from credit_ledger.config import SERVICE_NAME as LEDGER
from credit_ledger.main import create_app as create_ledger_app
from credit_ledger.migrate import MIGRATIONS as LEDGER_MIGRATIONS
from credit_ledger.worker import build_worker as build_ledger_worker
from keel.auth import Scope
from keel.clock import FixedClock
from keel.events.topics import all_topics
from keel.kafka.admin import delete_topics, ensure_topics
from keel.kafka.consumer import ConsumerLoop, Subscription
from keel.runtime import Runtime
from keel.settings import AuthSettings, KafkaSettings, Settings
from keel.tables import OUTBOX
from keel.testing.plugin import TEST_PARTITIONS, MakeDatabase, MakeToken, service_settings
from keel.testing.running import app_client, bearer, eventually, running
from keel.testing.samples import activity_event, partner_event, upstream_event
from keel.worker import Worker
from tier_engine.config import SERVICE_NAME as TIER
from tier_engine.config import TierServiceSettings, TierSettings
from tier_engine.main import create_app as create_tier_app
from tier_engine.migrate import MIGRATIONS as TIER_MIGRATIONS
from tier_engine.worker import build_worker as build_tier_worker

CLOCK = datetime(2025, 5, 20, 12, tzinfo=UTC)
AS_OF = "2025-05-16"
MONTHS = ["2025-01", "2025-02", "2025-03", "2025-04"]
BATCH = "application/cloudevents-batch+json"


def event(event_id: str, type_name: str, day: str, **data: Any) -> dict[str, Any]:
    return upstream_event(event_id, type_name, f"{day}T10:00:00Z", **data)


def activity(event_id: str, at: str, user: str, email: str, client: str) -> dict[str, Any]:
    return activity_event(event_id, at, user_id=user, user_email=email, client_id=client)


def partner(number: int) -> list[dict[str, Any]]:
    return [
        partner_event(number),
        event(
            f"p{number}-cert",
            "partner.certification_changed",
            "2024-03-01",
            partner_id=f"p-{number}",
            certified=True,
        ),
    ]


def user(event_id: str, partner_number: int, user_id: str) -> dict[str, Any]:
    return event(
        event_id,
        "partner_user.added",
        "2024-03-02",
        partner_id=f"p-{partner_number}",
        user_id=user_id,
        email=f"{user_id}@partner{partner_number}.example",
        partner_employee=True,
    )


def client(number: int, country: str, currency: str, mrr: str) -> list[dict[str, Any]]:
    return [
        event(
            f"c{number}",
            "client.created",
            "2025-01-01",
            client_id=f"c-{number}",
            name=f"Client {number}",
            website_domain=f"client-{number}.com",
            country=country,
            currency=currency,
        ),
        event(
            f"s{number}",
            "client.subscription_changed",
            "2025-01-01",
            client_id=f"c-{number}",
            mrr=mrr,
            currency=currency,
        ),
    ]


EVENTS: list[dict[str, Any]] = [
    *partner(1),
    *partner(2),
    user("u1", 1, "u-1"),
    user("u3", 1, "u-3"),
    user("u2", 2, "u-2"),
    *client(1, "US", "USD", "8000"),
    *client(2, "DE", "EUR", "3000"),
    event("m1", "client.user_added", "2025-01-01", client_id="c-1", user_id="u-1"),
    event("m2", "client.user_added", "2025-01-01", client_id="c-1", user_id="u-2"),
    event("m3", "client.user_added", "2025-01-01", client_id="c-2", user_id="u-3"),
    activity("a1", "2025-01-05T09:00:00Z", "u-1", "u-1@partner1.example", "c-1"),
    activity("a2", "2025-02-03T09:00:00Z", "u-2", "u-2@partner2.example", "c-1"),
    activity("a3", "2025-02-10T09:00:00Z", "u-3", "u-3@partner1.example", "c-2"),
    event(
        "s1-up",
        "client.subscription_changed",
        "2025-03-01",
        client_id="c-1",
        mrr="9000",
        currency="USD",
    ),
    # M5: p-2's only user leaves the client's account; its share ends that day.
    event("r2", "client.user_removed", "2025-03-10", client_id="c-1", user_id="u-2"),
    activity("a4", "2025-03-20T09:00:00Z", "u-1", "u-1@partner1.example", "c-1"),
    activity("a5", "2025-04-01T09:00:00Z", "u-3", "u-3@partner1.example", "c-2"),
    event(
        "d1",
        "deal.closed",
        "2025-01-10",
        deal_id="d-1",
        partner_id="p-1",
        client_id="c-1",
        client_domain="www.client-1.com",
        client_country="US",
        currency="USD",
        deal_type="sourced",
        product_line="marketing_hub",
        kind="new",
        mrr_delta="1400",
    ),
]


def shuffled_twice(events: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    doubled = [*events, *events]
    random.Random(12).shuffle(doubled)  # a fixed order, so a failure can be replayed
    return doubled


ORDERS: dict[str, Callable[[Sequence[dict[str, Any]]], list[dict[str, Any]]]] = {
    "as it happened": list,
    "reversed": lambda events: list(reversed(events)),
    "shuffled, every event twice": shuffled_twice,
}


@dataclass
class Pipeline:
    kafka: KafkaSettings
    settings: dict[str, Settings]
    apis: dict[str, httpx.AsyncClient]
    subscriptions: list[Subscription]
    admin: dict[str, str]
    producer: dict[str, str]

    async def post_events(self, events: Sequence[dict[str, Any]]) -> None:
        for start in range(0, len(events), 5):  # several requests, so arrival order is real
            chunk = events[start : start + 5]
            answer = await self.apis[INGEST].post(
                "/v1/events", content=json.dumps(chunk), headers=self.producer
            )
            assert answer.status_code == 202, answer.text

    async def register_lead(self) -> None:
        answer = await self.apis[CAPACITY].post(
            "/v1/partners/p-1/registrations",
            json={
                "website": "https://www.client-1.com",
                "company": "Client 1",
                "contact_name": "Ana",
                "country": "US",
            },
            headers=self.admin,
        )
        assert answer.status_code == 201, answer.text

    async def roll_up(self) -> None:
        for month in MONTHS:
            answer = await self.apis[TIER].post(
                "/v1/rollups", json={"month": month}, headers=self.admin
            )
            assert answer.status_code == 201, answer.text

    async def settle(self) -> None:
        """Until nothing is in flight: every outbox empty and every consumer group's committed
        offsets at the end of the topics it reads (then the outboxes again, in case a consumer
        queued something while this looked)."""

        async def quiet() -> bool:
            return (
                await self._outboxes_empty()
                and await self._consumers_caught_up()
                and await self._outboxes_empty()
            )

        await eventually(quiet, timeout_s=90, interval_s=0.2)

    async def digests(self) -> dict[str, str]:
        found = {}
        for name, api in self.apis.items():
            answer = await api.get("/v1/state/digest", params={"as_of": AS_OF}, headers=self.admin)
            assert answer.status_code == 200, answer.text
            body = answer.json()
            assert body["rows"] > 0, f"{name} has no state: the run did not go through"
            found[name] = body["digest"]
        return found

    async def _outboxes_empty(self) -> bool:
        for settings in self.settings.values():
            engine = create_async_engine(settings.database.url.get_secret_value())
            try:
                async with engine.connect() as connection:
                    waiting = await connection.scalar(select(func.count()).select_from(OUTBOX))
            finally:
                await engine.dispose()
            if waiting:
                return False
        return True

    async def _consumers_caught_up(self) -> bool:
        for subscription in self.subscriptions:
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self.kafka.bootstrap_servers,
                group_id=self.kafka.group(subscription.name),
                enable_auto_commit=False,
            )
            await consumer.start()
            try:
                partitions = [
                    TopicPartition(self.kafka.topic(topic), partition)
                    for topic in subscription.topics
                    for partition in range(TEST_PARTITIONS)
                ]
                ends = await consumer.end_offsets(partitions)
                for partition in partitions:
                    if (
                        ends[partition]
                        and (await consumer.committed(partition) or 0) < ends[partition]
                    ):
                        return False
            finally:
                await consumer.stop()
        return True


@asynccontextmanager
async def pipeline(
    databases: dict[str, str], kafka: KafkaSettings, auth: AuthSettings, make_token: MakeToken
) -> AsyncIterator[Pipeline]:
    clock = FixedClock(CLOCK)
    classes: dict[str, type[Settings]] = {
        INGEST: IngestServiceSettings,
        LEDGER: Settings,
        TIER: TierServiceSettings,
        CAPACITY: Settings,
    }
    settings = {
        name: service_settings(cls, name, database_url=databases[name], kafka=kafka, auth=auth)
        for name, cls in classes.items()
    }
    workers: list[Worker] = [
        build_ingest_worker(Runtime.create(settings[INGEST], clock)),
        build_ledger_worker(Runtime.create(settings[LEDGER], clock)),
        # Rollups run when the test says, once every event is in.
        build_tier_worker(
            Runtime.create(settings[TIER], clock), TierSettings(scheduled_rollup=False)
        ),
        build_capacity_worker(Runtime.create(settings[CAPACITY], clock)),
    ]
    apps = {
        INGEST: create_ingest_app,
        LEDGER: create_ledger_app,
        TIER: create_tier_app,
        CAPACITY: create_capacity_app,
    }
    async with AsyncExitStack() as stack:
        apis = {
            name: await stack.enter_async_context(app_client(create(settings[name], clock)))
            for name, create in apps.items()
        }
        for worker in workers:
            await stack.enter_async_context(running(worker))
        yield Pipeline(
            kafka=kafka,
            settings=settings,
            apis=apis,
            subscriptions=[
                loop.subscription
                for worker in workers
                for loop in worker.loops
                if isinstance(loop, ConsumerLoop)
            ],
            admin=bearer(make_token(Scope.ADMIN)),
            producer={**bearer(make_token(Scope.EVENTS_WRITE)), "content-type": BATCH},
        )


@asynccontextmanager
async def fresh_topics(kafka: KafkaSettings) -> AsyncIterator[KafkaSettings]:
    own = kafka.model_copy(update={"topic_prefix": f"t{secrets.token_hex(4)}."})
    await ensure_topics(own, all_topics(), partitions=TEST_PARTITIONS)
    try:
        yield own
    finally:
        await delete_topics(own, all_topics())


MIGRATIONS = {
    INGEST: INGEST_MIGRATIONS,
    LEDGER: LEDGER_MIGRATIONS,
    TIER: TIER_MIGRATIONS,
    CAPACITY: CAPACITY_MIGRATIONS,
}


def posting(events: list[dict[str, Any]]) -> Callable[["Pipeline"], Awaitable[None]]:
    async def feed(run: Pipeline) -> None:
        await run.post_events(events)

    return feed


async def _run(
    databases: dict[str, str],
    kafka: KafkaSettings,
    auth: AuthSettings,
    make_token: MakeToken,
    feed: Callable[[Pipeline], Awaitable[None]],
) -> dict[str, str]:
    async with fresh_topics(kafka) as topics, pipeline(databases, topics, auth, make_token) as run:
        await run.register_lead()
        await feed(run)
        await run.settle()
        await run.roll_up()
        await run.settle()
        return await run.digests()


async def test_issue_12_point_8_digests_agree_across_arrival_orders_duplicates_and_a_replay(
    make_database: MakeDatabase,
    kafka_settings: KafkaSettings,
    auth_settings: AuthSettings,
    make_token: MakeToken,
) -> None:
    runs: dict[str, dict[str, str]] = {}
    first_ingest: str | None = None
    for label, order in ORDERS.items():
        databases = {name: await make_database(path) for name, path in MIGRATIONS.items()}
        first_ingest = first_ingest or databases[INGEST]

        runs[label] = await _run(
            databases, kafka_settings, auth_settings, make_token, posting(order(EVENTS))
        )

    # A full replay: the first run's accepted log, published again into fresh databases and
    # topics downstream.
    assert first_ingest is not None
    replayed = {name: await make_database(path) for name, path in MIGRATIONS.items()}
    replayed[INGEST] = first_ingest

    async def replay(run: Pipeline) -> None:
        answer = await run.apis[INGEST].post(
            "/v1/replays",
            json={"from": "2000-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"},
            headers=run.admin,
        )
        assert answer.status_code == 202, answer.text
        assert answer.json()["queued"] == len(EVENTS)

    runs["full replay"] = await _run(replayed, kafka_settings, auth_settings, make_token, replay)

    reference = runs["as it happened"]
    for label, digests in runs.items():
        assert digests == reference, f"{label} differs from the first run"

    # The control: the same set less the removal (M5) is other state, and the digests say so.
    without_removal = [e for e in EVENTS if e["id"] != "r2"]
    databases = {name: await make_database(path) for name, path in MIGRATIONS.items()}
    other = await _run(
        databases, kafka_settings, auth_settings, make_token, posting(without_removal)
    )
    assert other[TIER] != reference[TIER]  # p-2 still shares the client on March's 15th
    assert other[INGEST] != reference[INGEST]
