"""Issue 12 point 7: a database outage is a 503, not a 500, and nothing accepted is lost.

The test runs its own PostgreSQL (embedded, on its own port and data directory), so stopping it
leaves every other test's server alone. activity-ingest (API and outbox relay) and the
credit-ledger worker run on it with the suite's broker; the server is stopped and started again
inside the test, and no process is restarted.
"""

import asyncio
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import col

from activity_ingest.config import SERVICE_NAME as INGEST
from activity_ingest.config import IngestServiceSettings
from activity_ingest.main import create_app as create_ingest_app
from activity_ingest.migrate import MIGRATIONS as INGEST_MIGRATIONS
from activity_ingest.worker import build_worker as build_ingest_worker
from credit_ledger.config import SERVICE_NAME as LEDGER
from credit_ledger.main import create_app as create_ledger_app
from credit_ledger.migrate import MIGRATIONS as LEDGER_MIGRATIONS
from credit_ledger.worker import build_worker as build_ledger_worker
from keel.auth import Scope
from keel.clock import FixedClock
from keel.dbadmin import create_database
from keel.embedded.ports import free_port
from keel.embedded.postgres import EmbeddedPostgres
from keel.events.catalogue import EVENTS
from keel.events.envelope import CloudEvent
from keel.migrations import upgrade
from keel.runtime import Runtime
from keel.settings import AuthSettings, KafkaSettings, Settings
from keel.tables import AppliedEvent
from keel.testing.plugin import MakeToken, service_settings
from keel.testing.running import app_client, bearer, eventually, publish
from keel.testing.samples import partner_event as partner

BATCH = "application/cloudevents-batch+json"


@pytest.fixture
def own_postgres() -> Iterator[EmbeddedPostgres]:
    """A PostgreSQL server for this test alone: it is stopped and started mid-test."""
    with tempfile.TemporaryDirectory(prefix="keel-outage-pg-") as directory:
        server = EmbeddedPostgres(Path(directory) / "data", free_port(), fast_unsafe=True)
        server.start()
        try:
            yield server
        finally:
            server.stop()


async def _settings(
    server: EmbeddedPostgres,
    cls: type[Settings],
    name: str,
    migrations: Path,
    kafka: KafkaSettings,
    auth: AuthSettings,
) -> Any:
    url = await create_database(server.url, name.replace("-", "_"))
    await asyncio.to_thread(upgrade, migrations, url)
    return service_settings(cls, name, database_url=url, kafka=kafka, auth=auth)


@pytest.fixture
async def stack(
    own_postgres: EmbeddedPostgres, kafka_settings: KafkaSettings, auth_settings: AuthSettings
) -> tuple[IngestServiceSettings, Settings]:
    ingest = await _settings(
        own_postgres,
        IngestServiceSettings,
        INGEST,
        INGEST_MIGRATIONS,
        kafka_settings,
        auth_settings,
    )
    ledger = await _settings(
        own_postgres, Settings, LEDGER, LEDGER_MIGRATIONS, kafka_settings, auth_settings
    )
    return ingest, ledger


async def _applied(ledger: Settings, ids: list[str]) -> int:
    engine = create_async_engine(ledger.database.url.get_secret_value())
    try:
        async with engine.connect() as connection:
            found = await connection.scalar(
                select(func.count()).where(col(AppliedEvent.event_id).in_(ids))
            )
    finally:
        await engine.dispose()
    return int(found or 0)


async def test_issue_12_point_7_an_outage_is_a_503_and_everything_catches_up_after_it(
    own_postgres: EmbeddedPostgres,
    stack: tuple[IngestServiceSettings, Settings],
    make_token: MakeToken,
) -> None:
    ingest_settings, ledger_settings = stack
    clock = FixedClock()
    producer = {**bearer(make_token(Scope.EVENTS_WRITE)), "content-type": BATCH}
    admin = bearer(make_token(Scope.ADMIN))
    stopping = asyncio.Event()
    ledger_worker = asyncio.create_task(
        build_ledger_worker(Runtime.create(ledger_settings, clock)).run(stopping)
    )
    async with (
        app_client(create_ingest_app(ingest_settings, clock)) as ingest,
        app_client(create_ledger_app(ledger_settings, clock)) as ledger,
    ):
        # Accepted before the outage; the ingest relay is not running yet, so these wait in
        # its outbox through the outage.
        before = await ingest.post("/v1/events", content=json.dumps([partner(1)]), headers=producer)
        assert before.status_code == 202, before.text

        await asyncio.to_thread(own_postgres.stop)

        during = await ingest.post("/v1/events", content=json.dumps([partner(2)]), headers=producer)
        assert during.status_code == 503
        assert during.headers["content-type"] == "application/problem+json"
        assert int(during.headers["retry-after"]) > 0
        assert during.json()["type"] == "/problems/service-unavailable"
        read = await ledger.get("/v1/partners/p-1/managed-credit", headers=admin)
        assert (read.status_code, int(read.headers["retry-after"])) == (503, 5)
        ready = await ingest.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"].startswith("failing")

        # Workers meet the outage: the relay cannot read its outbox, the ledger's consumer
        # cannot apply what another service published meanwhile. Both wait and retry.
        published = partner(3)
        await publish(
            ledger_settings.kafka,
            [EVENTS.parse(CloudEvent.from_json(json.dumps(published))).message()],
        )
        ingest_worker = asyncio.create_task(
            build_ingest_worker(Runtime.create(ingest_settings, clock)).run(stopping)
        )
        try:
            retries_before = _retries()

            async def consumer_retried() -> bool:
                return _retries() > retries_before

            await eventually(consumer_retried)
            # A loop that gave up would have ended its worker.
            assert not ledger_worker.done()
            assert not ingest_worker.done()

            await asyncio.to_thread(own_postgres.start)

            async def accepted_again() -> httpx.Response | None:
                answer = await ingest.post(
                    "/v1/events", content=json.dumps([partner(2)]), headers=producer
                )
                return answer if answer.status_code == 202 else None

            await eventually(accepted_again)
            assert (await ingest.get("/readyz")).status_code == 200
            # Everything accepted (before, after) and published (during) reaches the ledger.
            ids = ["p1", "p2", "p3"]
            await eventually(lambda: _all_applied(ledger_settings, ids), timeout_s=60)
        finally:
            stopping.set()
            await asyncio.wait_for(asyncio.gather(ledger_worker, ingest_worker), 30)


def _retries() -> float:
    """Batches the ledger's consumer rolled back after a transient error, so far."""
    found = REGISTRY.get_sample_value("keel_consumer_retries_total", {"consumer": LEDGER})
    return found or 0.0


async def _all_applied(ledger: Settings, ids: list[str]) -> bool:
    return await _applied(ledger, ids) == len(ids)
