"""`make bench-capacity`: lead registrations under load, figures in bench/results/capacity.json.
(Not named capacity.py: this directory comes first on the path and would hide the package.)

On a stack started here on free ports, then on the bare twin (bench/twin.py) in the same run: wrk
with BENCH_CAPACITY_CLIENTS connections (50) POSTs registrations for BENCH_CAPACITY_SECONDS (30),
each of a new domain, over BENCH_CAPACITY_PARTNERS partners (1,000, untiered: limit 50); one
request in ten goes to one of ten hot partners, so those reach their limit under contention and
the rest are refused (409). Then the open loop offers BENCH_OPEN_RATE (1,000) a second for
BENCH_OPEN_SECONDS (15), the same mix.
- registrations_per_s: registration requests answered per second (201 or 409, each decided
  under the partner's lock); accepted_per_s: those not refused;
- overbooked: after the run, from the database: partners whose active registrations exceed
  the limit their tier and type give them under the capacity policy (must be 0), for ours and
  for the twin's runs.
"""

import asyncio
import json
import os
import random
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

sys.path.insert(0, str(Path(__file__).parent))
from load import OPEN_RATE, bare_twin, cpu_ms_per, open_loop_posts, publish, wrk
from stack import own_stack

from capacity.domain.policy import CapacityPolicy
from keel.events.payloads.account import PartnerType
from keel.events.payloads.tier import Tier

SECONDS = int(os.environ.get("BENCH_CAPACITY_SECONDS", "30"))
PARTNERS = int(os.environ.get("BENCH_CAPACITY_PARTNERS", "1000"))
CLIENTS = int(os.environ.get("BENCH_CAPACITY_CLIENTS", "50"))
HOT_PARTNERS = 10
TARGETS = {
    "registrations_per_s": ">= 1500",
    "open_loop_p99_ms": "<= 20 at 1000 registrations/s offered",
    "ceiling_ratio": ">= 0.7",
    "overbooked": "== 0",
}


def body(run: str, index: int) -> bytes:
    return json.dumps(
        {
            "website": f"https://www.open-{run}-{index}.com/pricing",
            "company": f"Lead {index}",
            "contact_name": "Ana Example",
            "country": "DE",
        }
    ).encode()


def partner_of(run: str, index: int) -> str:
    """As the wrk script chooses: one request in ten to one of ten hot partners."""
    chosen = random.Random(index)
    hot = chosen.random() < 0.1
    return f"{run}-p-{chosen.randrange(HOT_PARTNERS) if hot else chosen.randrange(PARTNERS)}"


def measure(url: str, token: str, cpu: Callable[[], dict[str, float]]) -> dict[str, Any]:
    """wrk closed loop, then the open loop at OPEN_RATE; overbooking counted from the database
    by the caller, per run."""
    run = uuid.uuid4().hex[:8]
    before = cpu()
    closed = wrk(url, "capacity_register.lua", [token, run, str(PARTNERS)], seconds=SECONDS,
                 connections=CLIENTS)  # fmt: skip
    between = cpu()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    open_run = uuid.uuid4().hex[:8]
    opened = open_loop_posts(
        url,
        headers,
        lambda i: (f"/v1/partners/{partner_of(open_run, i)}/registrations", body(open_run, i)),
    )
    after = cpu()
    return {
        "runs": [run, open_run],
        "closed": closed,
        "open": opened,
        "cpu_closed": cpu_ms_per(before, between, closed["requests"], GROUPS),
        "cpu_open": cpu_ms_per(between, after, opened.answered, GROUPS),
    }


GROUPS = {
    "api": ["capacity-api"],
    "worker": ["capacity-worker"],
    "postgresql": ["postgres"],
    "bare_twin": ["twin"],
}


async def overbooked(database_url: str, runs: list[str]) -> dict[str, int]:
    """Partners of these runs holding more active registrations than their limit."""
    policy = CapacityPolicy.load()
    now = datetime.now(UTC)
    version = policy.on(now.date())
    engine = create_async_engine(database_url.replace("postgresql://", "postgresql+asyncpg://"))
    try:
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    text(
                        "SELECT p.partner_id, p.partner_type, p.tier, count(r.id) AS active"
                        " FROM partner_capacity p JOIN registration r USING (partner_id)"
                        " WHERE split_part(p.partner_id, '-p-', 1) = ANY(:runs)"
                        " AND r.status = 'active'"
                        " AND (r.expires_at IS NULL OR r.expires_at > :now)"
                        " GROUP BY p.partner_id, p.partner_type, p.tier"
                    ),
                    {"runs": runs, "now": now},
                )
            ).all()
    finally:
        await engine.dispose()
    limits = [
        (
            row.active,
            version.limit(Tier(row.tier) if row.tier else None, PartnerType(row.partner_type)),
        )
        for row in rows
    ]
    return {
        "overbooked": sum(active > limit for active, limit in limits),
        "partners_at_limit": sum(active == limit for active, limit in limits),
    }


def main() -> None:
    with own_stack() as stack:
        url = stack.url("capacity")
        ours = measure(url, stack.token, stack.cpu_seconds)
        database = stack.database_url("capacity")
        ours_booked = asyncio.run(overbooked(database, ours["runs"]))
        with bare_twin(stack) as twin:
            bare = measure(twin.url, stack.token, twin.cpu_seconds)
        twin_booked = asyncio.run(overbooked(database, bare["runs"]))
    closed, opened = ours["closed"], ours["open"]
    results: dict[str, Any] = {
        "partners": PARTNERS,
        "clients": CLIENTS,
        "seconds": SECONDS,
        "requests": closed["requests"],
        "registrations_per_s": closed["requests_per_s"],
        "accepted_per_s": round(
            closed["requests_per_s"]
            * (closed["requests"] - closed["non_2xx"])
            / closed["requests"],
            1,
        ),
        "register_p50_ms": closed["p50_ms"],
        "register_p99_ms": closed["p99_ms"],
        "register_max_ms": closed["max_ms"],
        "refused": closed["non_2xx"],
        "errors": closed["errors"],
        **ours_booked,
        "open_loop_offered_per_s": OPEN_RATE,
        "open_loop_p50_ms": opened.percentile(0.5),
        "open_loop_p99_ms": opened.percentile(0.99),
        "open_loop": opened.figures("register"),
        "bare_twin_registrations_per_s": bare["closed"]["requests_per_s"],
        "bare_twin_register_p99_ms": bare["closed"]["p99_ms"],
        "bare_twin_open_loop_p99_ms": bare["open"].percentile(0.99),
        "bare_twin_overbooked": twin_booked["overbooked"],
        "ceiling_ratio": round(closed["requests_per_s"] / bare["closed"]["requests_per_s"], 2),
        "cpu_ms_per_request": {
            "closed_loop": {k: v for k, v in ours["cpu_closed"].items() if k != "bare_twin"},
            "open_loop": {k: v for k, v in ours["cpu_open"].items() if k != "bare_twin"},
            "bare_twin_closed_loop": {k: v for k, v in bare["cpu_closed"].items() if k != "api"},
        },
    }
    publish(
        "capacity",
        results,
        TARGETS,
        (
            "Load generators (wrk, 2 threads; the open loop), the whole stack (api and worker "
            "per service), PostgreSQL and the broker share one machine with other engineers' "
            "work. registrations_per_s counts every answered registration (201 accepted or 409 "
            "refused at the limit). overbooked is counted from the database after the run, for "
            "ours and for the bare twin (bench/twin.py: FastAPI + asyncpg, capacity's own "
            "one-statement registration, no auth, no exact count at the bound)."
        ),
    )


if __name__ == "__main__":
    main()
