from fastapi import FastAPI

from activity_ingest import state
from activity_ingest.api import catalogue, events, replays
from activity_ingest.config import IngestServiceSettings, load_settings
from keel.clock import Clock
from keel.entrypoints import serve_api
from keel.http.app import create_service_app
from keel.http.digest import digest_router
from keel.runtime import Runtime


def create_app(
    settings: IngestServiceSettings | None = None, clock: Clock | None = None
) -> FastAPI:
    runtime = Runtime.create(settings or load_settings(), clock)
    return create_service_app(
        runtime,
        title="activity-ingest",
        description="Takes upstream facts (activities, accounts, deals) onto Kafka, durably, once.",
        routers=[events.router, catalogue.router, replays.router, digest_router(state.log_state)],
    )


def run() -> None:
    serve_api("activity_ingest.main:create_app", load_settings())
