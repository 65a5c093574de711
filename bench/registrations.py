"""`make bench-capacity`: lead registrations under load, figures in bench/results/capacity.json.
(Not named capacity.py: this directory comes first on the path and would hide the package.)

Against the running stack (started if none answers): wrk with BENCH_CAPACITY_CLIENTS
connections (50) POSTs registrations for BENCH_CAPACITY_SECONDS (30), each of a new domain, over
BENCH_CAPACITY_PARTNERS partners (1,000, untiered: limit 50). One request in ten goes to one of
ten hot partners, so those reach their limit under contention and the rest are refused (409).
- registrations_per_s: registration requests answered per second (201 or 409, each decided
  under the partner's lock); accepted_per_s: those not refused;
- register_p99_ms: the 99th percentile of request latency, as the clients see it;
- overbooked: after the run, from the database: partners whose active registrations exceed
  the limit their tier and type give them under the capacity policy (must be 0).
"""

import asyncio
import json
import os
import platform
import shutil
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

sys.path.insert(0, str(Path(__file__).parent))
from stack import ROOT, running_stack, write_results

from capacity.domain.policy import CapacityPolicy
from keel.events.payloads.account import PartnerType
from keel.events.payloads.tier import Tier

URL = "http://127.0.0.1:8004"
SECONDS = int(os.environ.get("BENCH_CAPACITY_SECONDS", "30"))
PARTNERS = int(os.environ.get("BENCH_CAPACITY_PARTNERS", "1000"))
CLIENTS = int(os.environ.get("BENCH_CAPACITY_CLIENTS", "50"))
HOT_PARTNERS = 10
TARGETS = {"registrations_per_s": ">= 1000", "register_p99_ms": "<= 20", "overbooked": "== 0"}


def database_url() -> str:
    """The URL the stack was given, or make run's embedded PostgreSQL (its port from its pid
    file: line 4)."""
    if url := os.environ.get("CAPACITY_DATABASE_URL"):
        return url
    port = (ROOT / ".local" / "postgres" / "postmaster.pid").read_text().splitlines()[3]
    return f"postgresql+asyncpg://postgres@127.0.0.1:{port.strip()}/capacity"


def load(token: str, run: str) -> dict[str, Any]:
    """wrk (C, two threads) drives the load: a Python client costs more CPU than the service."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is not installed (make bench-capacity installs it with apt-get)")
    output = subprocess.run(
        [
            wrk,
            "-t2",
            f"-c{CLIENTS}",
            f"-d{SECONDS}s",
            "--timeout",
            "10s",
            "-s",
            str(ROOT / "bench" / "capacity_register.lua"),
            URL,
            "--",
            token,
            run,
            str(PARTNERS),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(line for line in output.splitlines() if line.startswith("WRK_JSON "))
    figures = json.loads(line.removeprefix("WRK_JSON "))
    seconds = figures["duration_us"] / 1e6
    return {
        "partners": PARTNERS,
        "clients": CLIENTS,
        "seconds": round(seconds, 1),
        "requests": figures["requests"],
        "registrations_per_s": round(figures["requests"] / seconds, 1),
        "accepted_per_s": round((figures["requests"] - figures["errors_status"]) / seconds, 1),
        "register_p50_ms": round(figures["p50_us"] / 1000, 2),
        "register_p99_ms": round(figures["p99_us"] / 1000, 2),
        "register_max_ms": round(figures["max_us"] / 1000, 2),
        "refused": figures["errors_status"],
        "errors": figures["errors_timeout"] + figures["errors_connect"] + figures["errors_read"],
    }


async def overbooked(run: str) -> dict[str, int]:
    """Partners of this run holding more active registrations than their limit."""
    policy = CapacityPolicy.load()
    now = datetime.now(UTC)
    version = policy.on(now.date())
    engine = create_async_engine(database_url())
    try:
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    text(
                        "SELECT p.partner_id, p.partner_type, p.tier, count(r.id) AS active"
                        " FROM partner_capacity p JOIN registration r USING (partner_id)"
                        " WHERE p.partner_id LIKE :run AND r.status = 'active'"
                        " AND (r.expires_at IS NULL OR r.expires_at > :now)"
                        " GROUP BY p.partner_id, p.partner_type, p.tier"
                    ),
                    {"run": f"{run}-p-%", "now": now},
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


async def main(token: str) -> dict[str, Any]:
    run = uuid.uuid4().hex[:8]
    figures = load(token, run)
    figures.update(await overbooked(run))
    return figures


if __name__ == "__main__":
    with running_stack() as token:
        results = asyncio.run(main(token))
    results["targets"] = TARGETS
    results["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version()}
    results["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    results["notes"] = (
        "Load generator (wrk, 2 threads), the whole stack (api and worker per service), "
        "PostgreSQL and the broker share the same machine. registrations_per_s counts every "
        "answered registration (201 accepted or 409 refused at the limit)."
    )
    path = write_results("capacity", results)
    print(json.dumps(results, indent=2))
    print(f"[bench] written to {path}")
