"""Portal test support: a small world of partners, users and clients as upstream producers post
it to activity-ingest, and the whole system running in-process around the portal (ingest, the
credit-ledger, the tier engine and capacity, their workers and the portal's), on the test's own
PostgreSQL databases and Kafka topics."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI

from activity_ingest.config import IngestServiceSettings
from activity_ingest.main import create_app as create_ingest_app
from activity_ingest.worker import build_worker as build_ingest_worker
from capacity.main import create_app as create_capacity_app
from capacity.worker import build_worker as build_capacity_worker
from credit_ledger.main import create_app as create_ledger_app
from credit_ledger.worker import build_worker as build_ledger_worker
from keel.auth import Scope
from keel.clock import FixedClock
from keel.runtime import Runtime
from keel.settings import Settings
from keel.testing.plugin import MakeToken
from keel.testing.running import AppsTransport, app_client, bearer, eventually, running, serving
from keel.testing.samples import activity_event, deal_event, upstream_event
from partner_portal.config import PortalServiceSettings, PortalSettings
from partner_portal.main import create_app as create_portal_app
from partner_portal.worker import build_worker as build_portal_worker
from tier_engine.main import create_app as create_tier_app
from tier_engine.worker import build_worker as build_tier_worker

# Where the portal finds the four services when they run in-process (keel.testing.running.serving).
IN_PROCESS = PortalSettings(
    ingest_url="http://activity-ingest",
    ledger_url="http://credit-ledger",
    tier_url="http://tier-engine",
    capacity_url="http://capacity",
)
NOW = datetime(2025, 4, 1, 12, tzinfo=UTC)
AS_OF = "2025-04-01"
ANA, CY, BO = "ana@alpha.example", "cy@freelance.example", "bo@beta.example"


def event(event_id: str, type_name: str, day: str, **data: Any) -> dict[str, Any]:
    return upstream_event(event_id, type_name, f"{day}T10:00:00Z", **data)


def partner(partner_id: str, domain: str, partner_type: str = "solutions") -> list[dict[str, Any]]:
    return [
        event(
            f"{partner_id}-reg",
            "partner.registered",
            "2024-01-01",
            partner_id=partner_id,
            name=partner_id.upper(),
            partner_type=partner_type,
            employee_email_domain=domain,
            country="GB",
        ),
        event(
            f"{partner_id}-cert",
            "partner.certification_changed",
            "2024-01-01",
            partner_id=partner_id,
            certified=True,
        ),
    ]


def user(partner_id: str, user_id: str, email: str, employee: bool = True) -> dict[str, Any]:
    return event(
        f"{user_id}-added",
        "partner_user.added",
        "2024-01-01",
        partner_id=partner_id,
        user_id=user_id,
        email=email,
        partner_employee=employee,
    )


def client(client_id: str, name: str, domain: str, mrr: str, **tiers: str) -> list[dict[str, Any]]:
    return [
        event(
            f"{client_id}-created",
            "client.created",
            "2025-01-01",
            client_id=client_id,
            name=name,
            website_domain=domain,
            country="US",
            currency="USD",
        ),
        event(
            f"{client_id}-sub",
            "client.subscription_changed",
            "2025-01-01",
            client_id=client_id,
            mrr=mrr,
            currency="USD",
            products=["marketing_hub_pro"],
            **tiers,
        ),
    ]


def member(client_id: str, user_id: str) -> dict[str, Any]:
    return event(
        f"{client_id}-{user_id}-member",
        "client.user_added",
        "2025-01-01",
        client_id=client_id,
        user_id=user_id,
    )


def work(event_id: str, client_id: str, user_id: str, email: str, day: str, action: str) -> Any:
    return activity_event(
        event_id,
        f"{day}T09:00:00Z",
        user_id=user_id,
        user_email=email,
        client_id=client_id,
        tool=action.split(".")[0],
        action=action,
    )


def renewal(client_id: str, renewal_date: str, deadline: str, day: str = "2025-03-01") -> Any:
    terms = {"products": ["marketing_hub_pro"], "mrr": "1000", "currency": "USD"}
    return event(
        f"{client_id}-renewal-{renewal_date}",
        "client.renewal_scheduled",
        day,
        client_id=client_id,
        renewal_date=renewal_date,
        decision_deadline=deadline,
        communication_owner={"name": "Olga Owner", "email": "olga@acme.example"},
        renewal_manager={"name": "Rita Renewals", "email": "rita@vendor.example"},
        current_subscription=terms,
        renewal_subscription={**terms, "mrr": "1200"},
    )


def deal(deal_id: str, partner_id: str, client_id: str, domain: str, day: str) -> Any:
    return deal_event(
        deal_id,
        f"{day}T10:00:00Z",
        source="product/accounts",
        partner_id=partner_id,
        client_id=client_id,
        client_domain=domain,
        mrr_delta="400",
    )


# p-1 (alpha.example): manages c-1 through Ana (c-1's other partner, p-2, only logged in; Cy,
# p-1's contractor, is not linked); sold c-2; manages and sold c-3, whose credit ends on
# 2025-04-06 without new activity (60-day window). p-2 (beta.example) manages c-4 alone.
WORLD: list[dict[str, Any]] = [
    *partner("p-1", "alpha.example"),
    *partner("p-2", "beta.example"),
    user("p-1", "u-1", ANA),
    user("p-1", "u-3", CY, employee=False),
    user("p-2", "u-2", BO),
    *client(
        "c-1",
        "Acme Bakery",
        "acme-bakery.com",
        "1000",
        contact_tier="Marketing contacts 10,000",
        email_tier="Email sends 200,000/month",
    ),
    *client("c-2", "Beta Books", "betabooks.com", "500"),
    *client("c-3", "Gamma Garden", "gamma-garden.com", "300"),
    *client("c-4", "Delta Dairy", "delta-dairy.com", "700"),
    member("c-1", "u-1"),
    member("c-1", "u-2"),
    member("c-1", "u-3"),
    member("c-3", "u-1"),
    member("c-4", "u-2"),
    work("a-1", "c-1", "u-1", ANA, "2025-03-20", "blog.post_published"),
    work("a-2", "c-1", "u-2", BO, "2025-03-21", "login.succeeded"),
    work("a-3", "c-1", "u-3", CY, "2025-03-22", "email.sent"),
    work("a-4", "c-3", "u-1", ANA, "2025-02-05", "email.sent"),
    work("a-5", "c-4", "u-2", BO, "2025-03-25", "email.sent"),
    deal("d-1", "p-1", "c-2", "betabooks.com", "2025-01-10"),
    deal("d-2", "p-1", "c-3", "gamma-garden.com", "2025-01-12"),
    renewal("c-1", "2025-05-01", "2025-04-20"),
    renewal("c-3", "2025-09-01", "2025-08-01"),
    event("c-1-score", "client.engagement_scored", "2025-03-01", client_id="c-1", score=8),
    event(
        "c-2-apps",
        "client.apps_used",
        "2025-03-01",
        client_id="c-2",
        apps=["crm", "email", "forms", "lists", "workflows"],
    ),
    event(
        "p-1-pdm",
        "partner.team_assigned",
        "2024-06-01",
        partner_id="p-1",
        role="partner_development_manager",
        name="Pat Manager",
        email="pat@vendor.example",
        description="Growth plans and programme questions",
    ),
]


@dataclass
class Settings5:
    ingest: IngestServiceSettings
    ledger: Settings
    tier: Settings
    capacity: Settings
    portal: PortalServiceSettings


@dataclass
class System:
    ingest: httpx.AsyncClient
    portal: httpx.AsyncClient
    tier: httpx.AsyncClient
    ledger: httpx.AsyncClient
    clock: FixedClock
    make_token: MakeToken

    def partner(self, partner_id: str) -> dict[str, str]:
        return bearer(self.make_token(Scope.PARTNER_READ, partner_id=partner_id))

    def admin(self) -> dict[str, str]:
        return bearer(self.make_token(Scope.ADMIN))

    async def post(self, events: list[dict[str, Any]]) -> None:
        answer = await self.ingest.post(
            "/v1/events",
            json=events,
            headers={
                **bearer(self.make_token(Scope.EVENTS_WRITE)),
                "content-type": "application/cloudevents-batch+json",
            },
        )
        assert answer.json()["accepted"] == len(events), answer.text

    async def get(self, path: str, partner_id: str, **params: Any) -> httpx.Response:
        return await self.portal.get(path, params=params, headers=self.partner(partner_id))

    async def read(self, path: str, partner_id: str, **params: Any) -> Any:
        """The JSON body of a GET as the partner, which must answer 200."""
        answer = await self.get(path, partner_id, **params)
        assert answer.status_code == 200, answer.text
        return answer.json()


def hanging_service() -> FastAPI:
    """A service that accepts every request and never answers in time."""
    app = FastAPI()

    @app.get("/{path:path}")
    async def hang(path: str) -> None:
        await asyncio.sleep(30)

    return app


@asynccontextmanager
async def system(
    settings: Settings5,
    make_token: MakeToken,
    *,
    down: tuple[str, ...] = (),
    hanging: tuple[str, ...] = (),
) -> AsyncIterator[System]:
    """Every service in-process and every worker running. The portal finds nothing listening
    where `down` names a service, and a service that never answers where `hanging` does (its
    upstream timeout is then half a second)."""
    clock = FixedClock(NOW)
    portal_settings = settings.portal
    if hanging:
        timeout = portal_settings.portal.model_copy(update={"upstream_timeout_s": 0.5})
        portal_settings = portal_settings.model_copy(update={"portal": timeout})
    upstream = {
        "activity-ingest": create_ingest_app(settings.ingest, clock),
        "credit-ledger": create_ledger_app(settings.ledger, clock),
        "tier-engine": create_tier_app(settings.tier, clock),
        "capacity": create_capacity_app(settings.capacity, clock),
    }
    workers = [
        build_ingest_worker(Runtime.create(settings.ingest, clock)),
        build_ledger_worker(Runtime.create(settings.ledger, clock)),
        build_tier_worker(Runtime.create(settings.tier, clock)),
        build_capacity_worker(Runtime.create(settings.capacity, clock)),
        build_portal_worker(Runtime.create(settings.portal, clock)),
    ]
    async with AsyncExitStack() as stack:
        everything = await stack.enter_async_context(serving(upstream))
        for worker in workers:
            await stack.enter_async_context(running(worker))
        reachable = AppsTransport(
            {
                host: hanging_service() if host in hanging else app
                for host, app in upstream.items()
                if host not in down
            }
        )
        portal = await stack.enter_async_context(
            app_client(create_portal_app(portal_settings, clock, reachable))
        )
        ingest = await stack.enter_async_context(
            httpx.AsyncClient(transport=everything, base_url="http://activity-ingest")
        )
        tier = await stack.enter_async_context(
            httpx.AsyncClient(transport=everything, base_url="http://tier-engine")
        )
        ledger = await stack.enter_async_context(
            httpx.AsyncClient(transport=everything, base_url="http://credit-ledger")
        )
        yield System(ingest, portal, tier, ledger, clock, make_token)


async def world_settled(system: System) -> None:
    """The world posted and every service caught up with it, as the portal sees it."""
    await system.post(WORLD)

    async def caught_up() -> bool:
        one = (await system.get("/v1/partners/p-1/clients", "p-1", as_of=AS_OF)).json()
        two = (await system.get("/v1/partners/p-2/clients", "p-2", as_of=AS_OF)).json()
        renewals = (
            await system.get("/v1/partners/p-1/renewals", "p-1", as_of=AS_OF, within_days=180)
        ).json()
        team = (await system.get("/v1/partners/p-1/team", "p-1")).json()
        points = (
            await system.tier.get(
                "/v1/partners/p-1/points-breakdown",
                params={"month": "2025-04"},
                headers=system.admin(),
            )
        ).json()
        return (
            any(c["client_id"] == "c-1" for c in points.get("clients", []))
            and one.get("total") == 3
            and two.get("total") == 1
            and len(renewals.get("renewals", [])) == 2
            and len(team.get("members", [])) == 1
            and any(c["engagement"]["score"] == 8 for c in one["clients"])
            and any(c["apps"] for c in one["clients"])
        )

    await eventually(caught_up, timeout_s=60)
