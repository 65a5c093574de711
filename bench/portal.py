"""`make bench-portal`: the partner portal's reads, figures in bench/results/portal.json.

Against the running stack (started if none answers): one partner with BENCH_PORTAL_CLIENTS
clients (1,000) is seeded through activity-ingest, as upstream producers would send it: each
client with its subscription (contact and email tiers), a member of the partner's staff and a
qualifying activity (so the ledger credits it), a scheduled renewal, and an engagement score or
the apps in use; one in five also sold by a deal. Once the portal lists every client, the tier
engine's latest month is rolled up, then each read is timed from one client, one request after
the other (BENCH_PORTAL_SAMPLES, 300 each, after a warm-up), with a partner token:
- dashboard_p99_ms: GET /v1/partners/{p}/dashboard (its three owners' calls included);
- clients_page_p99_ms: GET /v1/partners/{p}/clients, 50 rows, a random page and order;
- client_details_p99_ms: GET /v1/partners/{p}/clients/{c}, a random client (the ledger's
  partner-scoped attribution included);
- pages: the web pages (dashboard with its clients table, a client's panel, tier, breakdown,
  calculator, team, employees, capacity), p95 of each as a signed-in browser asks for it.
"""

import asyncio
import os
import random
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from stack import p99, running_stack, with_context, write_results

from keel.events.catalogue import (
    CLIENT_APPS_USED,
    CLIENT_CREATED,
    CLIENT_ENGAGEMENT_SCORED,
    CLIENT_RENEWAL_SCHEDULED,
    CLIENT_SUBSCRIPTION_CHANGED,
    CLIENT_USER_ADDED,
    PARTNER_CERTIFICATION_CHANGED,
    PARTNER_REGISTERED,
    PARTNER_TEAM_ASSIGNED,
    PARTNER_USER_ADDED,
)
from keel.testing.samples import activity_event, deal_event, upstream_event
from tier_engine.domain.calendar import latest_closed_month

INGEST, TIER, PORTAL = "http://127.0.0.1:8001", "http://127.0.0.1:8003", "http://127.0.0.1:8005"
CLIENTS = int(os.environ.get("BENCH_PORTAL_CLIENTS", "1000"))
SAMPLES = int(os.environ.get("BENCH_PORTAL_SAMPLES", "300"))
TARGETS = {
    "dashboard_p99_ms": "<= 100",
    "clients_page_p99_ms": "<= 100",
    "client_details_p99_ms": "<= 100",
    "pages": "each <= 150 (p95)",
}
# The web pages (issue 16), each timed as the browser asks for it: HTML, cookie session.
PAGES = ("dashboard", "client", "tier", "breakdown", "calculator", "team", "employees", "capacity")
APPS = ["crm", "email", "forms", "lists", "workflows", "landing_pages", "ctas", "social_publishing"]


def seed(run: str, today: date) -> list[dict[str, Any]]:
    partner, user, email = f"p-{run}", f"u-{run}", f"staff@{run}.example"
    start = f"{today - timedelta(days=365)}T08:00:00Z"

    def event(event_id: str, type_name: str, at: str, **data: Any) -> dict[str, Any]:
        return upstream_event(f"{run}-{event_id}", type_name, at, source="bench/portal", **data)

    events = [
        event(
            "partner",
            PARTNER_REGISTERED,
            start,
            partner_id=partner,
            name="Bench Agency",
            partner_type="solutions",
            employee_email_domain=f"{run}.example",
            country="GB",
        ),
        event("cert", PARTNER_CERTIFICATION_CHANGED, start, partner_id=partner, certified=True),
        event(
            "user",
            PARTNER_USER_ADDED,
            start,
            partner_id=partner,
            user_id=user,
            email=email,
            partner_employee=True,
        ),
        event(
            "pdm",
            PARTNER_TEAM_ASSIGNED,
            start,
            partner_id=partner,
            role="partner_development_manager",
            name="Pat Manager",
            email="pat@vendor.example",
        ),
    ]
    for n in range(CLIENTS):
        client, domain = f"c-{run}-{n}", f"client-{run}-{n}.com"
        recent = f"{today - timedelta(days=1 + n % 50)}T09:00:00Z"
        mrr = str(100 + n % 900)
        terms = {"products": ["marketing_hub_pro"], "mrr": mrr, "currency": "USD"}
        events += [
            event(
                f"{n}-created",
                CLIENT_CREATED,
                start,
                client_id=client,
                name=f"Client {n:04d}",
                website_domain=domain,
                country="US",
                currency="USD",
            ),
            event(
                f"{n}-sub",
                CLIENT_SUBSCRIPTION_CHANGED,
                start,
                client_id=client,
                mrr=mrr,
                currency="USD",
                products=["marketing_hub_pro"],
                contact_tier="Marketing contacts 10,000",
                email_tier="Email sends 200,000/month",
            ),
            event(f"{n}-member", CLIENT_USER_ADDED, start, client_id=client, user_id=user),
            activity_event(
                f"{run}-{n}-work",
                recent,
                source="bench/portal",
                user_id=user,
                user_email=email,
                client_id=client,
                tool="email",
                action="email.sent",
            ),
            event(
                f"{n}-renewal",
                CLIENT_RENEWAL_SCHEDULED,
                recent,
                client_id=client,
                renewal_date=str(today + timedelta(days=20 + n % 200)),
                decision_deadline=str(today + timedelta(days=5 + n % 200)),
                communication_owner={"name": "Olga Owner", "email": "olga@client.example"},
                renewal_manager={"name": "Rita Renewals", "email": "rita@vendor.example"},
                current_subscription=terms,
                renewal_subscription=terms,
            ),
        ]
        if n % 2:
            events.append(
                event(
                    f"{n}-score", CLIENT_ENGAGEMENT_SCORED, recent, client_id=client, score=n % 11
                )
            )
        else:
            events.append(
                event(
                    f"{n}-apps",
                    CLIENT_APPS_USED,
                    recent,
                    client_id=client,
                    apps=APPS[: n % len(APPS)],
                )
            )
        if n % 5 == 0:
            events.append(
                deal_event(
                    f"{run}-{n}-deal",
                    recent,
                    source="bench/portal",
                    deal_id=f"d-{run}-{n}",
                    partner_id=partner,
                    client_id=client,
                    client_domain=domain,
                    mrr_delta="200",
                )
            )
    return events


def partner_token(partner_id: str) -> str:
    command = [
        str(Path(sys.executable).parent / "keel-devstack"),
        "token",
        "--scope",
        "partner:read",
        "--partner-id",
        partner_id,
    ]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()


async def timed(client: httpx.AsyncClient, path: str, **params: Any) -> float:
    began = time.perf_counter()
    answer = await client.get(path, params=params)
    elapsed = (time.perf_counter() - began) * 1000
    if answer.status_code != 200:
        raise RuntimeError(f"{path}: {answer.status_code} {answer.text[:300]}")
    return elapsed


async def main(admin: str) -> dict[str, Any]:
    run = f"b{int(time.time())}"
    partner, today = f"p-{run}", datetime.now(UTC).date()
    headers = {"Authorization": f"Bearer {admin}"}
    events = seed(run, today)
    began = time.perf_counter()
    async with httpx.AsyncClient(timeout=60) as http:
        for start in range(0, len(events), 500):
            answer = await http.post(
                f"{INGEST}/v1/events",
                json=events[start : start + 500],
                headers={**headers, "content-type": "application/cloudevents-batch+json"},
            )
            answer.raise_for_status()
        print(f"[bench] {len(events)} events posted; waiting for the portal", flush=True)
        reader = {"Authorization": f"Bearer {partner_token(partner)}"}
        while True:
            listed = await http.get(
                f"{PORTAL}/v1/partners/{partner}/clients", params={"page_size": 1}, headers=reader
            )
            if listed.status_code == 200 and listed.json()["total"] == CLIENTS:
                break
            await asyncio.sleep(1)
        settled_s = time.perf_counter() - began
        month = str(latest_closed_month(today))
        rolled = await http.post(f"{TIER}/v1/rollups", json={"month": month}, headers=headers)
        rolled.raise_for_status()
    print(f"[bench] seeded and settled in {settled_s:.1f}s; timing", flush=True)
    clients = [f"c-{run}-{n}" for n in range(CLIENTS)]
    pages = CLIENTS // 50
    orders = [("name", "asc"), ("mrr", "desc"), ("renewal_date", "asc"), ("engagement", "desc")]
    figures: dict[str, Any] = {
        "clients": CLIENTS,
        "events": len(events),
        "samples": SAMPLES,
        "seed_settled_s": round(settled_s, 1),
    }
    async with httpx.AsyncClient(base_url=PORTAL, headers=reader, timeout=30) as portal:
        base = f"/v1/partners/{partner}"
        reads = {
            "dashboard": lambda: timed(portal, f"{base}/dashboard"),
            "clients_page": lambda: timed(
                portal,
                f"{base}/clients",
                page_size=50,
                page=random.randint(1, pages),
                sort=(pick := random.choice(orders))[0],
                order=pick[1],
            ),
            "client_details": lambda: timed(portal, f"{base}/clients/{random.choice(clients)}"),
        }
        for name, read in reads.items():
            for _ in range(20):
                await read()
            samples = [await read() for _ in range(SAMPLES)]
            figures[f"{name}_p50_ms"] = round(sorted(samples)[len(samples) // 2], 2)
            figures[f"{name}_p99_ms"] = p99(samples)
            print(f"[bench] {name}: p99 {figures[f'{name}_p99_ms']} ms", flush=True)
    figures["pages"] = await time_pages(partner, clients, reader)
    return figures


async def time_pages(partner: str, clients: list[str], reader: dict[str, str]) -> dict[str, Any]:
    """p95 of each web page's answer for the 1,000-client partner (one request at a time)."""
    token = reader["Authorization"].removeprefix("Bearer ")
    paths = {name: f"/partners/{partner}/{name}" for name in PAGES}
    paths["dashboard"] = f"/partners/{partner}/"
    figures: dict[str, Any] = {"samples": SAMPLES // 3}
    async with httpx.AsyncClient(
        base_url=PORTAL, cookies={"portal_session": token}, timeout=30
    ) as pages:
        for name, path in paths.items():
            if name == "client":

                def read() -> Any:
                    return timed(pages, f"/partners/{partner}/clients/{random.choice(clients)}")
            else:

                def read(path: str = path) -> Any:
                    return timed(pages, path)

            for _ in range(10):
                await read()
            samples = sorted([await read() for _ in range(SAMPLES // 3)])
            figures[f"{name}_p95_ms"] = round(samples[int(len(samples) * 0.95) - 1], 2)
            print(f"[bench] page {name}: p95 {figures[f'{name}_p95_ms']} ms", flush=True)
    return figures


if __name__ == "__main__":
    with running_stack() as token:
        results = asyncio.run(main(token))
    results = with_context(
        results,
        TARGETS,
        "One client, one request at a time, on the machine that also runs the whole stack "
        "(api and worker per service), PostgreSQL and the broker. The dashboard and client "
        "details include the portal's HTTP calls to the credit-ledger, tier engine and capacity.",
    )
    path = write_results("portal", results)
    print(f"[bench] written {path}")
