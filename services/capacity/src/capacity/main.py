from fastapi import FastAPI

from capacity.config import load_settings
from keel.clock import Clock
from keel.entrypoints import serve_api
from keel.http.app import create_service_app
from keel.runtime import Runtime
from keel.settings import Settings


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_service_app(
        Runtime.create(settings or load_settings(), clock),
        title="capacity",
        description="Lead-registration limits per tier (C-rules).",
        routers=[],
    )


def run() -> None:
    serve_api("capacity.main:create_app", load_settings())
