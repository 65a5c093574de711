from fastapi import FastAPI

from keel.clock import Clock
from keel.entrypoints import serve_api
from keel.http.app import create_service_app
from keel.http.digest import digest_router
from keel.runtime import Runtime
from keel.settings import Settings
from tier_engine import state
from tier_engine.api import calculator, partners, policies, rollups
from tier_engine.config import load_settings
from tier_engine.domain.policy import TierPolicy


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    runtime = Runtime.create(settings or load_settings(), clock)
    app = create_service_app(
        runtime,
        title="tier-engine",
        description="Sold and managed points rolled up monthly into tiers (S, P and T rules).",
        routers=[
            rollups.router,
            partners.router,
            calculator.router,
            policies.router,
            digest_router(state.rollup_state),
        ],
    )
    # Validated at start: a bad policy stops the process.
    app.state.policy = TierPolicy.load(runtime.settings.service.policy_dir)
    return app


def run() -> None:
    serve_api("tier_engine.main:create_app", load_settings())
