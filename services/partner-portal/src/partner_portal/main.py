import httpx
from fastapi import FastAPI

from keel.clock import Clock
from keel.entrypoints import serve_api
from keel.http.app import create_service_app
from keel.runtime import Runtime
from partner_portal.api import clients, partners, upstreams
from partner_portal.config import PortalServiceSettings, load_settings
from partner_portal.domain.policy import PortalPolicy
from partner_portal.upstream import Upstreams
from partner_portal.web import install as install_pages


def create_app(
    settings: PortalServiceSettings | None = None,
    clock: Clock | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """`transport`: how the four services are reached (tests run them in-process)."""
    settings = settings or load_settings()
    runtime = Runtime.create(settings, clock)
    owners = Upstreams(settings.portal, transport)
    app = create_service_app(
        runtime,
        title="partner-portal",
        description="The partner dashboard's JSON API (D-rules); figures from their owners.",
        routers=[partners.router, clients.router, upstreams.router],
        on_close=[owners.close],
    )
    # Validated at start: a bad policy stops the process.
    app.state.policy = PortalPolicy.load(settings.service.policy_dir)
    app.state.upstreams = owners
    app.state.portal_settings = settings.portal
    install_pages(app)
    return app


def run() -> None:
    serve_api("partner_portal.main:create_app", load_settings())
