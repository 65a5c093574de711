from fastapi import FastAPI

from capacity import state
from capacity.api import policies, registrations
from capacity.config import load_settings
from capacity.domain.policy import CapacityPolicy
from keel.clock import Clock
from keel.entrypoints import serve_api
from keel.http.app import create_service_app
from keel.http.digest import digest_router
from keel.runtime import Runtime
from keel.settings import Settings


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    runtime = Runtime.create(settings or load_settings(), clock)
    app = create_service_app(
        runtime,
        title="capacity",
        description="Lead-registration limits per tier (C-rules).",
        routers=[registrations.router, policies.router, digest_router(state.capacity_state)],
    )
    # Validated at start: a bad policy stops the process.
    app.state.policy = CapacityPolicy.load(runtime.settings.service.policy_dir)
    return app


def run() -> None:
    serve_api("capacity.main:create_app", load_settings())
