"""The pipeline the end-to-end tests run in-process: activity-ingest, the credit ledger and the
tier engine, each app spoken to over ASGI and each worker running, on one clock."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import NamedTuple

import httpx

from activity_ingest.config import IngestServiceSettings
from activity_ingest.main import create_app as create_ingest_app
from activity_ingest.worker import build_worker as build_ingest_worker
from credit_ledger.main import create_app as create_ledger_app
from credit_ledger.worker import build_worker as build_ledger_worker
from keel.clock import Clock
from keel.runtime import Runtime
from keel.settings import Settings
from keel.testing.running import app_client, running
from tier_engine.main import create_app as create_tier_app
from tier_engine.worker import build_worker as build_tier_worker


class Pipeline(NamedTuple):
    ingest: httpx.AsyncClient
    ledger: httpx.AsyncClient
    tiers: httpx.AsyncClient


StartPipeline = Callable[[Clock], AbstractAsyncContextManager[Pipeline]]


def pipeline_starter(
    ingest: IngestServiceSettings, ledger: Settings, tier: Settings
) -> StartPipeline:
    """Starts the three apps and the three workers (ingest's relay, the ledger's and the tier
    engine's consumers) on the clock given; they stop as on SIGTERM when the block ends."""

    @asynccontextmanager
    async def start(clock: Clock) -> AsyncIterator[Pipeline]:
        async with (
            app_client(create_ingest_app(ingest, clock)) as ingest_client,
            app_client(create_ledger_app(ledger, clock)) as ledger_client,
            app_client(create_tier_app(tier, clock)) as tier_client,
            running(build_ingest_worker(Runtime.create(ingest, clock))),
            running(build_ledger_worker(Runtime.create(ledger, clock))),
            running(build_tier_worker(Runtime.create(tier, clock))),
        ):
            yield Pipeline(ingest_client, ledger_client, tier_client)

    return start
