"""`make bench-ledger`: the credit-ledger under load, figures in bench/results/ledger.json.

Against the running stack (started if none answers): seeds partners, users, clients,
subscriptions and memberships through activity-ingest; then
- apply: posts BENCH_LEDGER_EVENTS qualifying activities (default 200,000 over 20,000 clients
  and 2,000 partners) and measures how fast the ledger worker applies them (its own metrics);
- event_to_credit: a new activity starting a partner's credit, from ingest's 202 to the credit
  readable on the ledger API;
- reads: attribution of random clients, and managed credit of a partner with 1,000 clients.
"""

import asyncio
import json
import os
import random
import re
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from stack import p99, running_stack, write_results

from keel.testing.samples import upstream_event

INGEST, LEDGER = "http://127.0.0.1:8001", "http://127.0.0.1:8002"
LEDGER_METRICS = "http://127.0.0.1:9002/metrics"
EVENTS = int(os.environ.get("BENCH_LEDGER_EVENTS", "200000"))
CLIENTS = int(os.environ.get("BENCH_LEDGER_CLIENTS", "20000"))
PARTNERS = int(os.environ.get("BENCH_LEDGER_PARTNERS", "2000"))
BIG_PARTNER_CLIENTS = min(1000, CLIENTS)
BATCH = 500
DAY = "2026-11-01"


def event(type_name: str, when: str, **data: Any) -> dict[str, Any]:
    return upstream_event(str(uuid.uuid4()), type_name, when, source="bench/ledger", **data)


def seed(run: str) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    """Partner i has user u-i; client c-j is served by partner j % PARTNERS, and the first
    BIG_PARTNER_CLIENTS clients also by the big partner p-0."""
    t = f"{DAY}T00:00:00Z"
    out: list[dict[str, Any]] = []
    served: dict[str, list[str]] = {}
    for i in range(PARTNERS):
        p = f"{run}-p-{i}"
        out.append(
            event(
                "partner.registered",
                t,
                partner_id=p,
                name=p,
                partner_type="solutions",
                employee_email_domain=f"p{i}.{run}.example",
                country="GB",
            )
        )
        out.append(
            event(
                "partner_user.added",
                t,
                partner_id=p,
                user_id=f"{run}-u-{i}",
                email=f"u@p{i}.{run}.example",
                partner_employee=True,
            )
        )
    for j in range(CLIENTS):
        c = f"{run}-c-{j}"
        out.append(
            event(
                "client.created",
                t,
                client_id=c,
                name=c,
                website_domain=f"c{j}.com",
                country="US",
                currency="USD",
            )
        )
        out.append(
            event("client.subscription_changed", t, client_id=c, mrr="1000.00", currency="USD")
        )
        users = [j % PARTNERS] + ([0] if j < BIG_PARTNER_CLIENTS and j % PARTNERS != 0 else [])
        served[c] = [f"{run}-u-{u}" for u in users]
        for u in users:
            out.append(event("client.user_added", t, client_id=c, user_id=f"{run}-u-{u}"))
    return out, served


def activities(run: str, served: dict[str, list[str]], count: int) -> list[dict[str, Any]]:
    clients = list(served)
    out = []
    for n in range(count):
        c = clients[n % len(clients)]
        u = served[c][(n // len(clients)) % len(served[c])]  # rotate the users of a client
        p = int(u.rsplit("-", 1)[1])
        out.append(
            event(
                "activity.performed",
                f"{DAY}T{(n // 3600) % 24:02d}:{(n // 60) % 60:02d}:{n % 60:02d}Z",
                user_id=u,
                user_email=f"u@p{p}.{run}.example",
                client_id=c,
                tool="email",
                action="email.sent",
            )
        )
    return out


async def post_all(
    http: httpx.AsyncClient, items: list[dict[str, Any]], headers: dict[str, str]
) -> None:
    batches = [items[i : i + BATCH] for i in range(0, len(items), BATCH)]
    queue = asyncio.Queue[list[dict[str, Any]]]()
    for batch in batches:
        queue.put_nowait(batch)

    async def worker() -> None:
        while not queue.empty():
            batch = queue.get_nowait()
            answer = await http.post("/v1/events", content=json.dumps(batch), headers=headers)
            answer.raise_for_status()

    await asyncio.gather(*(worker() for _ in range(4)))


async def applied(metrics: httpx.AsyncClient) -> float:
    text = (await metrics.get(LEDGER_METRICS)).text
    pattern = (
        r'keel_consumer_messages_total\{consumer="credit-ledger",outcome="applied",'
        r'topic="activity\.events\.v1"\} ([0-9.e+]+)'
    )
    found = re.search(pattern, text)
    return float(found.group(1)) if found else 0.0


async def main(token: str) -> dict[str, Any]:
    run = uuid.uuid4().hex[:6]
    auth = {"Authorization": f"Bearer {token}"}
    batch_headers = {**auth, "content-type": "application/cloudevents-batch+json"}
    figures: dict[str, Any] = {"events": EVENTS, "clients": CLIENTS, "partners": PARTNERS}
    async with (
        httpx.AsyncClient(base_url=INGEST, timeout=120) as ingest,
        httpx.AsyncClient(base_url=LEDGER, timeout=60) as ledger,
        httpx.AsyncClient(timeout=10) as metrics,
    ):
        facts, served = seed(run)
        started = time.monotonic()
        await post_all(ingest, facts, batch_headers)
        figures["seed_events"] = len(facts)
        big = f"{run}-p-0"

        async def seeded() -> bool:
            answer = await ledger.get(f"/v1/partners/{big}/employees", headers=auth)
            return bool(answer.json().get("employees"))

        while not await seeded():
            await asyncio.sleep(1)
        figures["seed_seconds"] = round(time.monotonic() - started, 1)

        before = await applied(metrics)
        started = time.monotonic()
        await post_all(ingest, activities(run, served, EVENTS), batch_headers)
        figures["ingest_seconds"] = round(time.monotonic() - started, 1)
        while await applied(metrics) - before < EVENTS:
            if time.monotonic() - started > 3600:
                break
            await asyncio.sleep(1)
        elapsed = time.monotonic() - started
        figures["apply_events_per_s"] = round((await applied(metrics) - before) / elapsed, 1)
        figures["apply_seconds"] = round(elapsed, 1)

        lags = []
        for n in range(20):
            client = f"{run}-fresh-{n}"
            p = 1 + n
            user = f"{run}-u-{p}"
            t = f"{DAY}T12:00:00Z"
            setup = [
                event(
                    "client.created",
                    t,
                    client_id=client,
                    name=client,
                    website_domain=f"f{n}.com",
                    country="US",
                    currency="USD",
                ),
                event(
                    "client.subscription_changed", t, client_id=client, mrr="100.00", currency="USD"
                ),
                event("client.user_added", t, client_id=client, user_id=user),
            ]
            await post_all(ingest, setup, batch_headers)
            await asyncio.sleep(1)
            act = event(
                "activity.performed",
                f"{DAY}T13:00:00Z",
                user_id=user,
                user_email=f"u@p{p}.{run}.example",
                client_id=client,
                tool="email",
                action="email.sent",
            )
            answer = await ingest.post("/v1/events", json=act, headers=auth)
            accepted = time.monotonic()
            answer.raise_for_status()
            while True:
                credit = await ledger.get(
                    f"/v1/partners/{run}-p-{p}/managed-credit", params={"as_of": DAY}, headers=auth
                )
                if any(c["client_id"] == client for c in credit.json()["clients"]):
                    break
                if time.monotonic() - accepted > 60:
                    break
                await asyncio.sleep(0.01)
            lags.append((time.monotonic() - accepted) * 1000)
        figures["event_to_credit_p50_ms"] = round(statistics.median(lags), 1)
        figures["event_to_credit_p99_ms"] = p99(lags)

        reads = []
        for _ in range(200):
            client = f"{run}-c-{random.randrange(CLIENTS)}"
            t0 = time.perf_counter()
            (
                await ledger.get(
                    f"/v1/clients/{client}/attribution", params={"as_of": DAY}, headers=auth
                )
            ).raise_for_status()
            reads.append((time.perf_counter() - t0) * 1000)
        figures["attribution_read_p50_ms"] = round(statistics.median(reads), 2)
        figures["attribution_read_p99_ms"] = p99(reads)

        reads = []
        for _ in range(50):
            t0 = time.perf_counter()
            answer = await ledger.get(
                f"/v1/partners/{big}/managed-credit", params={"as_of": DAY}, headers=auth
            )
            reads.append((time.perf_counter() - t0) * 1000)
        figures["partner_clients"] = len(answer.json()["clients"])
        figures["partner_credit_read_p50_ms"] = round(statistics.median(reads), 2)
        figures["partner_credit_read_p99_ms"] = p99(reads)
    return figures


if __name__ == "__main__":
    with running_stack() as token:
        results = asyncio.run(main(token))
    results["targets"] = {
        "apply_events_per_s": ">= 10000",
        "event_to_credit_p99_ms": "<= 1000",
        "attribution_read_p99_ms": "<= 10",
        "partner_credit_read_p99_ms": "<= 50",
    }
    results["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    path = write_results("ledger", results)
    print(json.dumps(results, indent=2))
    print(f"[bench] written to {path}")
