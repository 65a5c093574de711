from fastapi import FastAPI

from credit_ledger import state
from credit_ledger.api import access, credit, policies
from credit_ledger.config import load_settings
from credit_ledger.domain.policy import ManagedPolicy
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
        title="credit-ledger",
        description=(
            "Managed attribution with expiry windows and the append-only managed-credit ledger "
            "(M-rules)."
        ),
        routers=[credit.router, access.router, policies.router, digest_router(state.credit_state)],
    )
    # Validated at start: a bad policy stops the process.
    app.state.policy = ManagedPolicy.load(runtime.settings.service.policy_dir)
    return app


def run() -> None:
    serve_api("credit_ledger.main:create_app", load_settings())
