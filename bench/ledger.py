"""`make bench-ledger`: the credit-ledger under load, figures in bench/results/ledger.json.

1. drain (its own embedded PostgreSQL, fsync on, and broker; the ledger worker in this process,
   nothing else running): BENCH_LEDGER_CLIENTS clients (20,000) of BENCH_LEDGER_PARTNERS
   partners (2,000) seeded through the worker's own batch hook; BENCH_LEDGER_EVENTS qualifying
   activities (200,000) preloaded on `activity.events.v1`; then the worker starts and drains the
   topic: `apply_events_per_s`, and `apply_cpu_us_per_event` (this process's CPU, i.e. the
   worker's, and PostgreSQL's separately);
2. history_growth: on the same database, one client with 10, 100, 1,000 and 10,000 activities
   in its 60-day window (10 users), then the apply cost of one more activity in its own batch:
   one on a new day (its coverage grows: the client is evaluated, entries written) and one on a
   day already covered (nothing to write);
3. against the running stack (started if none answers): seeds through activity-ingest, then
   posts the activities while the ledger applies them: `apply_events_per_s_with_ingest`;
   event_to_credit (ingest's 202 to the credit readable on the ledger API); reads: attribution
   of random clients, managed credit of a partner with 1,000 clients.
"""

import asyncio
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).parent))
from stack import ROOT, p99, ready, write_results

from activity_ingest.migrate import MIGRATIONS as INGEST_MIGRATIONS
from credit_ledger import repository
from credit_ledger.consumers import subscription
from credit_ledger.domain.policy import ManagedPolicy
from credit_ledger.migrate import MIGRATIONS
from credit_ledger.worker import build_worker
from keel.auth import Scope, issue_token
from keel.clock import SystemClock
from keel.dbadmin import create_database
from keel.embedded.ports import free_port
from keel.embedded.postgres import EmbeddedPostgres
from keel.events import topics
from keel.events.catalogue import (
    ACTIVITY_PERFORMED,
    CLIENT_CREATED,
    CLIENT_SUBSCRIPTION_CHANGED,
    CLIENT_USER_ADDED,
    EVENTS,
    PARTNER_REGISTERED,
    PARTNER_USER_ADDED,
)
from keel.events.envelope import CloudEvent
from keel.events.registry import Event
from keel.kafka.admin import ensure_topics
from keel.kafka.publisher import Message, Publisher
from keel.metrics import CONSUMED
from keel.migrations import upgrade
from keel.runtime import Runtime
from keel.settings import AuthSettings, KafkaSettings, Settings
from keel.testing.plugin import service_settings
from keel.testing.running import running
from keel.testing.samples import upstream_event
from keel.testing.servers import kafka_server

EVENTS_N = int(os.environ.get("BENCH_LEDGER_EVENTS", "200000"))
CLIENTS = int(os.environ.get("BENCH_LEDGER_CLIENTS", "20000"))
PARTNERS = int(os.environ.get("BENCH_LEDGER_PARTNERS", "2000"))
BIG_PARTNER_CLIENTS = min(1000, CLIENTS)
BATCH = 500
DAY = "2026-11-01"
GROWTH = (10, 100, 1000, 10000)
# Records per poll (KAFKA_CONSUMER_MAX_RECORDS, shared by the 12 partitions of a poll): the
# ledger worker's setting in deploy/k8s/base/credit-ledger.
MAX_RECORDS = int(os.environ.get("BENCH_LEDGER_MAX_RECORDS", "5000"))


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
                PARTNER_REGISTERED,
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
                PARTNER_USER_ADDED,
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
                CLIENT_CREATED,
                t,
                client_id=c,
                name=c,
                website_domain=f"c{j}.com",
                country="US",
                currency="USD",
            )
        )
        out.append(
            event(CLIENT_SUBSCRIPTION_CHANGED, t, client_id=c, mrr="1000.00", currency="USD")
        )
        users = [j % PARTNERS] + ([0] if j < BIG_PARTNER_CLIENTS and j % PARTNERS != 0 else [])
        served[c] = [f"{run}-u-{u}" for u in users]
        for u in users:
            out.append(event(CLIENT_USER_ADDED, t, client_id=c, user_id=f"{run}-u-{u}"))
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
                ACTIVITY_PERFORMED,
                f"{DAY}T{(n // 3600) % 24:02d}:{(n // 60) % 60:02d}:{n % 60:02d}Z",
                user_id=u,
                user_email=f"u@p{p}.{run}.example",
                client_id=c,
                tool="email",
                action="email.sent",
            )
        )
    return out


def parsed(items: Sequence[dict[str, Any]]) -> list[Event[Any]]:
    return [EVENTS.parse(CloudEvent.from_json(json.dumps(item).encode())) for item in items]


def kafka_message(item: dict[str, Any]) -> Message:
    """As activity-ingest publishes an accepted activity: the CloudEvent, keyed by client."""
    value = json.dumps({**item, "datacontenttype": "application/json"}).encode()
    return Message(topics.ACTIVITY.name, item["data"]["client_id"], value)


async def apply_batches(settings: Settings, items: Sequence[dict[str, Any]], size: int) -> None:
    """Facts through the worker's own batch hook, without Kafka (set-up, not measured)."""
    hook = subscription(ManagedPolicy.load(), SystemClock()).after_batch
    assert hook is not None
    runtime = Runtime.create(settings, SystemClock())
    for start in range(0, len(items), size):
        async with runtime.sessions() as session:
            await hook(session, parsed(items[start : start + size]))
            await session.commit()
    await runtime.close()


def applied_here() -> float:
    return float(CONSUMED.labels("credit-ledger", topics.ACTIVITY.name, "applied")._value.get())


def cpu_seconds(processes: Sequence[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            continue
    return total


def postgres_cpu(data_dir: Path) -> dict[int, float]:
    """CPU seconds per process of the server: the postmaster (its command names the data
    directory) and its children (backends, writers)."""
    found: list[psutil.Process] = []
    for process in psutil.process_iter(["cmdline"]):
        if str(data_dir) in " ".join(process.info["cmdline"] or []):
            found += [process, *process.children()]
    return {process.pid: cpu_seconds([process]) for process in found}


async def drain(settings: Settings, data_dir: Path, run: str) -> dict[str, Any]:
    """Seed, preload the activity topic, then drain it with the ledger worker alone."""
    facts, served = seed(run)
    started = time.monotonic()
    await apply_batches(settings, facts, 1000)
    figures: dict[str, Any] = {"seed_events": len(facts)}
    figures["seed_seconds"] = round(time.monotonic() - started, 1)
    await ensure_topics(settings.kafka, topics.all_topics())
    publisher = Publisher(settings.kafka)
    await publisher.start()
    items = activities(run, served, EVENTS_N)
    for start in range(0, len(items), 5000):
        await publisher.publish([kafka_message(item) for item in items[start : start + 5000]])
    await publisher.stop()
    print(f"[bench] preloaded {len(items)} activities", flush=True)
    me = psutil.Process()
    before, cpu, db_cpu = applied_here(), cpu_seconds([me]), postgres_cpu(data_dir)
    started = time.monotonic()
    async with running(build_worker(Runtime.create(settings, SystemClock()))):
        while applied_here() - before < EVENTS_N and time.monotonic() - started < 3600:
            await asyncio.sleep(0.2)
        elapsed = time.monotonic() - started
        done = applied_here() - before
        figures["apply_cpu_us_per_event"] = round((cpu_seconds([me]) - cpu) / done * 1e6, 1)
        db_used = sum(t - db_cpu.get(pid, 0.0) for pid, t in postgres_cpu(data_dir).items())
        figures["postgres_cpu_us_per_event"] = round(db_used / done * 1e6, 1)
    figures["apply_events_per_s"] = round(done / elapsed, 1)
    figures["apply_seconds"] = round(elapsed, 1)
    runtime = Runtime.create(settings, SystemClock())
    async with runtime.sessions() as session:  # ledger volume: entries (and events) written
        connection = await repository.driver(session)
        figures["ledger_entries"] = await connection.fetchval("SELECT count(*) FROM ledger_entry")
    await runtime.close()
    return figures


async def history_growth(settings: Settings) -> dict[str, Any]:
    """The apply cost of one more activity for a client with N activities in its window."""
    hook = subscription(ManagedPolicy.load(), SystemClock()).after_batch
    assert hook is not None
    runtime = Runtime.create(settings, SystemClock())
    day = datetime.fromisoformat(f"{DAY}T00:00:00+00:00")
    results: dict[str, Any] = {"activities": list(GROWTH)}
    samples: dict[str, list[float]] = {
        f"{measure}_{kind}": []
        for measure in ("us_per_event", "cpu_us_per_event")
        for kind in ("new_day", "covered")
    }
    for n in GROWTH:
        run = f"g{n}-{uuid.uuid4().hex[:4]}"
        p, domain = f"{run}-p", f"{run}.example"
        t = (day - timedelta(days=60)).isoformat()
        setup = [
            event(
                PARTNER_REGISTERED,
                t,
                partner_id=p,
                name=p,
                partner_type="solutions",
                employee_email_domain=domain,
                country="GB",
            ),
            event(
                CLIENT_CREATED,
                t,
                client_id=run,
                name=run,
                website_domain=f"{run}.com",
                country="US",
                currency="USD",
            ),
            event(CLIENT_SUBSCRIPTION_CHANGED, t, client_id=run, mrr="1000.00", currency="USD"),
        ]
        for u in range(10):
            setup.append(
                event(
                    PARTNER_USER_ADDED,
                    t,
                    partner_id=p,
                    user_id=f"{run}-u{u}",
                    email=f"u{u}@{domain}",
                    partner_employee=True,
                )
            )
            setup.append(event(CLIENT_USER_ADDED, t, client_id=run, user_id=f"{run}-u{u}"))

        def act(at: datetime, u: int, run: str = run, domain: str = domain) -> dict[str, Any]:
            return event(
                ACTIVITY_PERFORMED,
                at.isoformat(),
                user_id=f"{run}-u{u}",
                user_email=f"u{u}@{domain}",
                client_id=run,
                tool="email",
                action="email.sent",
            )

        history = [
            act(day - timedelta(days=59) + timedelta(seconds=i * 59 * 86400 // n), i % 10)
            for i in range(n)
        ]
        await apply_batches(settings, [*setup, *history], 1000)
        for kind, offset in (("new_day", 1), ("covered", 0)):
            walls, cpus = [], []
            for k in range(20):
                # new day: each one a day later than the last; covered: inside the window
                at = day + timedelta(days=offset * (k + 1), hours=1, minutes=k)
                events = parsed([act(at, k % 10)])
                t0, c0 = time.perf_counter(), time.process_time()
                async with runtime.sessions() as session:
                    await hook(session, events)
                    await session.commit()
                walls.append((time.perf_counter() - t0) * 1e6)
                cpus.append((time.process_time() - c0) * 1e6)
            samples[f"us_per_event_{kind}"].append(round(statistics.median(walls), 1))
            samples[f"cpu_us_per_event_{kind}"].append(round(statistics.median(cpus), 1))
        print(f"[bench] history {n}: { ({k: v[-1] for k, v in samples.items()}) }", flush=True)
    await runtime.close()
    results |= samples
    # The ratio of the cost with 10,000 activities to 10: CPU (the worker's), which the other
    # loads on the machine disturb far less than wall time.
    cpu = samples["cpu_us_per_event_new_day"]
    results["ratio"] = round(cpu[-1] / cpu[0], 2)
    cpu = samples["cpu_us_per_event_covered"]
    results["ratio_covered"] = round(cpu[-1] / cpu[0], 2)
    wall = samples["us_per_event_new_day"]
    results["ratio_wall"] = round(wall[-1] / wall[0], 2)
    return results


def serve(service: str, command: str, env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    log = open(Path(tempfile.gettempdir()) / f"bench-{service}-{command}.log", "ab")  # noqa: SIM115
    return subprocess.Popen(
        [str(Path(sys.executable).parent / service), command],
        env={**os.environ, **env, "SERVICE_PORT": str(port)},
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )


def own_servers() -> dict[str, Any]:
    """Everything on its own PostgreSQL (fsync on, like a real server) and broker, and free
    ports: the stack of `make run` may belong to someone else's checkout."""
    with tempfile.TemporaryDirectory(prefix="bench-ledger-") as directory, kafka_server() as kafka:
        data_dir = Path(directory) / "data"
        server = EmbeddedPostgres(data_dir, free_port())
        admin = server.start()
        children: list[subprocess.Popen[bytes]] = []
        try:
            urls = {
                name: asyncio.run(create_database(admin, f"bench_{name}"))
                for name in ("credit_ledger", "activity_ingest")
            }
            upgrade(MIGRATIONS, urls["credit_ledger"])
            upgrade(INGEST_MIGRATIONS, urls["activity_ingest"])
            auth = AuthSettings(jwt_secret="bench-secret-" + "x" * 32)
            brokers = KafkaSettings(
                bootstrap_servers=kafka.bootstrap_servers,
                enable_idempotence=kafka.idempotence,
                consumer_max_records=MAX_RECORDS,
            )
            settings = service_settings(
                Settings,
                "credit-ledger",
                database_url=urls["credit_ledger"],
                kafka=brokers,
                auth=auth,
            )
            run = uuid.uuid4().hex[:6]
            figures = asyncio.run(drain(settings, data_dir, run))
            figures["consumer_max_records"] = MAX_RECORDS
            print(f"[bench] drain: {figures}", flush=True)
            figures["history_growth"] = asyncio.run(history_growth(settings))
            env = {
                "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
                "KAFKA_ENABLE_IDEMPOTENCE": str(kafka.idempotence).lower(),
                "AUTH_JWT_SECRET": auth.jwt_secret.get_secret_value(),
                "SERVICE_ENVIRONMENT": "local",
                "SERVICE_LOG_LEVEL": "WARNING",
            }
            ingest_port, ledger_port, metrics_port = free_port(), free_port(), free_port()
            ingest_env = {**env, "DATABASE_URL": urls["activity_ingest"]}
            ledger_env = {
                **env,
                "DATABASE_URL": urls["credit_ledger"],
                "KAFKA_CONSUMER_MAX_RECORDS": str(MAX_RECORDS),
                "SERVICE_WORKER_METRICS_PORT": str(metrics_port),
            }
            children += [
                serve("activity-ingest", "api", ingest_env, ingest_port),
                serve("activity-ingest", "worker", ingest_env, free_port()),
                serve("credit-ledger", "api", ledger_env, ledger_port),
                serve("credit-ledger", "worker", ledger_env, free_port()),
            ]
            deadline = time.monotonic() + 120
            while not (ready(ingest_port) and ready(ledger_port)):
                if time.monotonic() > deadline:
                    raise RuntimeError("activity-ingest or credit-ledger did not come up")
                time.sleep(0.5)
            token = issue_token(
                auth,
                subject="bench",
                scopes=[Scope.ADMIN],
                now=datetime.now(UTC),
                ttl=timedelta(days=1),
            )
            local = "http://127.0.0.1:{}".format
            ports = (local(ingest_port), local(ledger_port), local(metrics_port))
            figures |= asyncio.run(with_ingest(token, ports, run))
        finally:
            for child in children:
                child.send_signal(signal.SIGTERM)
                child.wait(60)
            server.stop()
    return figures


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


async def worker_applied(metrics: httpx.AsyncClient) -> float:
    """Activities the ledger worker process applied, from its /metrics."""
    pattern = (
        r'keel_consumer_messages_total\{consumer="credit-ledger",outcome="applied",'
        r'topic="activity\.events\.v1"\} ([0-9.e+]+)'
    )
    found = re.search(pattern, (await metrics.get("/metrics")).text)
    return float(found.group(1)) if found else 0.0


async def with_ingest(token: str, urls: tuple[str, str, str], run: str) -> dict[str, Any]:
    """The ledger worker applying what activity-ingest takes over HTTP (api, worker and the
    ledger's api and worker, each its own process); then event to credit and the reads."""
    served = seed(run)[1]
    auth = {"Authorization": f"Bearer {token}"}
    batch_headers = {**auth, "content-type": "application/cloudevents-batch+json"}
    figures: dict[str, Any] = {}
    async with (
        httpx.AsyncClient(base_url=urls[0], timeout=120) as ingest,
        httpx.AsyncClient(base_url=urls[1], timeout=60) as ledger,
        httpx.AsyncClient(base_url=urls[2], timeout=10) as metrics,
    ):
        big = f"{run}-p-0"
        before = await worker_applied(metrics)
        started = time.monotonic()
        await post_all(ingest, activities(run, served, EVENTS_N), batch_headers)
        figures["ingest_seconds"] = round(time.monotonic() - started, 1)
        while await worker_applied(metrics) - before < EVENTS_N:
            if time.monotonic() - started > 3600:
                break
            await asyncio.sleep(0.5)
        elapsed = time.monotonic() - started
        rate = (await worker_applied(metrics) - before) / elapsed
        figures["apply_events_per_s_with_ingest"] = round(rate, 1)
        figures["apply_seconds_with_ingest"] = round(elapsed, 1)

        lags = []
        for n in range(20):
            client = f"{run}-fresh-{n}"
            p = 1 + n
            user = f"{run}-u-{p}"
            t = f"{DAY}T12:00:00Z"
            setup = [
                event(
                    CLIENT_CREATED,
                    t,
                    client_id=client,
                    name=client,
                    website_domain=f"f{n}.com",
                    country="US",
                    currency="USD",
                ),
                event(
                    CLIENT_SUBSCRIPTION_CHANGED, t, client_id=client, mrr="100.00", currency="USD"
                ),
                event(CLIENT_USER_ADDED, t, client_id=client, user_id=user),
            ]
            await post_all(ingest, setup, batch_headers)
            await asyncio.sleep(1)
            act = event(
                ACTIVITY_PERFORMED,
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
                f"/v1/partners/{big}/managed-credit",
                params={"as_of": DAY, "page_size": 5000},  # every client in one answer
                headers=auth,
            )
            reads.append((time.perf_counter() - t0) * 1000)
        figures["partner_clients"] = len(answer.json()["clients"])
        figures["partner_credit_read_p50_ms"] = round(statistics.median(reads), 2)
        figures["partner_credit_read_p99_ms"] = p99(reads)
    return figures


if __name__ == "__main__":
    results: dict[str, Any] = {"events": EVENTS_N, "clients": CLIENTS, "partners": PARTNERS}
    results.update(own_servers())
    results["cpus"] = os.cpu_count()
    results["targets"] = {
        "apply_events_per_s": ">= 10000",
        "history_growth.ratio": "<= 2",
        "event_to_credit_p99_ms": "<= 500",
        "attribution_read_p99_ms": "<= 10",
        "partner_credit_read_p99_ms": "<= 10",
    }
    results["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    path = write_results("ledger", results)
    print(json.dumps(results, indent=2))
    print(f"[bench] written to {path}")
