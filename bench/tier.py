"""`make bench-tier`: the tier engine's monthly rollup at scale, figures in bench/results/tier.json.

On its own embedded PostgreSQL (or BENCH_TIER_DATABASE_URL's server, an admin URL): a tier-engine
database seeded set-based with BENCH_TIER_PARTNERS partners (default 10,000), BENCH_TIER_CLIENTS
clients (200,000), BENCH_TIER_DEALS deals over 14 months (1,000,000, each under a registration,
S3) and a month of managed credit (every client managed by one partner, a third by two, with a
split change mid-month). Then:
- rollup_seconds: the rollup of 2026-10 (evaluated 2026-10-15), first revision, committed;
- rerun_seconds: the same month again (same digest, nothing stored);
- tier_read_p99_ms, calculator_p99_ms: the API in-process (ASGI, no network), sequential.
"""

import asyncio
import os
import random
import sys
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

sys.path.insert(0, str(Path(__file__).parent))
from stack import p99, write_results

from keel.auth import Scope, issue_token
from keel.clock import FixedClock
from keel.dbadmin import create_database
from keel.migrations import upgrade
from keel.runtime import Runtime
from keel.settings import AuthSettings, KafkaSettings, Settings
from keel.testing.plugin import service_settings
from keel.testing.running import app_client
from keel.testing.servers import postgres_server
from tier_engine.domain.calendar import Month
from tier_engine.domain.policy import TierPolicy
from tier_engine.main import create_app
from tier_engine.migrate import MIGRATIONS
from tier_engine.service.rollups import run_rollup

PARTNERS = int(os.environ.get("BENCH_TIER_PARTNERS", "10000"))
CLIENTS = int(os.environ.get("BENCH_TIER_CLIENTS", "200000"))
DEALS = int(os.environ.get("BENCH_TIER_DEALS", "1000000"))
READS = 2000
MONTH = Month(2026, 10)
NOW = datetime(2026, 10, 20, 6, tzinfo=UTC)

SEED = [
    """INSERT INTO partner_fact (source, event_id, partner_id, kind, at, partner_type, certified)
       SELECT 'bench', 'pt-' || p, 'p-' || p, 'partner.registered',
              timestamptz '2024-01-01', CASE WHEN p % 50 = 0 THEN 'provider' ELSE 'solutions' END,
              CAST(NULL AS boolean)
       FROM generate_series(0, :partners - 1) p
       UNION ALL
       SELECT 'bench', 'pc-' || p, 'p-' || p, 'partner.certification_changed',
              timestamptz '2024-01-01', NULL, p % 10 <> 0
       FROM generate_series(0, :partners - 1) p""",
    """INSERT INTO registration (registration_id, partner_id, domain, registered_at)
       SELECT 'r-' || c, 'p-' || (c % :partners), 'client-' || c || '.com', '2024-01-01'
       FROM generate_series(0, :clients - 1) c""",
    """INSERT INTO deal (deal_id, source, event_id, partner_id, client_id, client_domain,
           client_country, currency, deal_type, product_line, kind, mrr_delta, closed_at,
           closed_on, unit, units_version, rate, rate_rule, rates_version, growth_version,
           line_first_sold_on, registration_required, recorded_at)
       SELECT 'd-' || d, 'bench', 'd-' || d, 'p-' || (c % :partners), 'c-' || c,
              'client-' || c || '.com', CASE WHEN c % 7 = 0 THEN 'IN' ELSE 'US' END,
              CASE WHEN c % 5 = 0 THEN 'EUR' ELSE 'USD' END,
              CASE WHEN d % 3 = 0 THEN 'assisted' ELSE 'sourced' END, 'marketing_hub',
              CASE WHEN d % 20 = 0 THEN 'downgrade' ELSE 'new' END,
              CASE WHEN d % 20 = 0 THEN -50 ELSE 100 + d % 900 END,
              closed, closed::date, CASE WHEN c % 5 = 0 THEN 88 ELSE 100 END, 'units-2025',
              CASE WHEN d % 3 = 0 THEN 3 ELSE 5 END * CASE WHEN c % 7 = 0 THEN 2 ELSE 1 END,
              'P2', 'rates-2024', 'growth-2018', '2024-01-01', true, now()
       FROM (SELECT d, (CAST(d AS bigint) * 7919) % :clients AS c,
                    timestamptz '2025-08-20' + (d % 420) * interval '1 day' AS closed
             FROM generate_series(0, :deals - 1) d) s""",
    """INSERT INTO credit_entry (source, event_id, partner_id, client_id, effective_on, amount,
           currency, denominator, client_country, rule, cause, recorded_at)
       SELECT 'bench', 'e-' || c || '-' || k, 'p-' || ((c + k * 17) % :partners), 'c-' || c,
              date '2026-10-01', 500 + c % 5000, CASE WHEN c % 5 = 0 THEN 'EUR' ELSE 'USD' END,
              CASE WHEN c % 3 = 0 THEN 2 ELSE 1 END, CASE WHEN c % 7 = 0 THEN 'IN' ELSE 'US' END,
              'M7', jsonb '[]', timestamptz '2026-10-01'
       FROM generate_series(0, :clients - 1) c, generate_series(0, 1) k
       WHERE k = 0 OR c % 3 = 0
       UNION ALL
       SELECT 'bench', 'x-' || c, 'p-' || (c % :partners), 'c-' || c, date '2026-11-20', 0,
              CASE WHEN c % 5 = 0 THEN 'EUR' ELSE 'USD' END, 1,
              CASE WHEN c % 7 = 0 THEN 'IN' ELSE 'US' END, 'M2', jsonb '[]',
              timestamptz '2026-10-10'
       FROM generate_series(0, :clients - 1, 4) c""",
]


async def seed(url: str) -> None:
    engine = create_async_engine(url)
    sizes = {"partners": PARTNERS, "clients": CLIENTS, "deals": DEALS}
    async with engine.begin() as connection:
        for statement in SEED:
            await connection.execute(text(statement), sizes)
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text("ANALYZE"))
    await engine.dispose()


async def measure(settings: Settings) -> dict[str, Any]:
    policy = TierPolicy.load()
    clock = FixedClock(NOW)
    runtime = Runtime.create(settings, clock)
    figures: dict[str, Any] = {"partners": PARTNERS, "clients": CLIENTS, "deals": DEALS}
    for name in ("rollup_seconds", "rerun_seconds"):
        started = time.perf_counter()
        async with runtime.sessions() as session:
            outcome = await run_rollup(session, policy, MONTH, NOW)
        figures[name] = round(time.perf_counter() - started, 2)
        print(
            f"{name}: {figures[name]} s (revision {outcome.revision}, {outcome.partners} partners)"
        )
    figures["tier_counts"] = outcome.tier_counts
    await runtime.close()
    token = issue_token(
        settings.auth, subject="bench", scopes=[Scope.ADMIN], now=NOW, ttl=timedelta(days=3650)
    )
    async with app_client(create_app(settings, clock)) as api:
        api.headers["Authorization"] = f"Bearer {token}"
        for name, call in (
            (
                "tier_read_p99_ms",
                lambda: api.get(
                    f"/v1/partners/p-{random.randrange(PARTNERS)}/tier",
                    params={"month": str(MONTH)},
                ),
            ),
            (
                "calculator_p99_ms",
                lambda: api.post(
                    "/v1/calculator/points",
                    json={
                        "amount": "1000",
                        "currency": "EUR",
                        "country": "IN",
                        "will_manage": True,
                    },
                ),
            ),
        ):
            samples = []
            for _ in range(READS):
                started = time.perf_counter()
                answer = await call()
                samples.append((time.perf_counter() - started) * 1000)
                answer.raise_for_status()
            figures[name] = p99(samples)
            print(f"{name}: {figures[name]} ms")
    return figures


def main() -> None:
    with ExitStack() as stack:
        admin = os.environ.get("BENCH_TIER_DATABASE_URL") or stack.enter_context(postgres_server())
        url = asyncio.run(create_database(admin, f"bench_tier_{int(time.time())}"))
        upgrade(MIGRATIONS, url)
        started = time.perf_counter()
        asyncio.run(seed(url))
        print(f"seeded in {time.perf_counter() - started:.1f} s")
        settings = service_settings(
            Settings,
            "tier-engine",
            database_url=url,
            kafka=KafkaSettings(bootstrap_servers="127.0.0.1:9"),
            auth=AuthSettings(jwt_secret="bench-secret-" + "x" * 32),
        )
        figures = asyncio.run(measure(settings))
    figures["targets"] = {
        "rollup_seconds": "<= 30",
        "tier_read_p99_ms": "<= 20",
        "calculator_p99_ms": "<= 20",
    }
    print(f"written to {write_results('tier', figures)}")


if __name__ == "__main__":
    main()
