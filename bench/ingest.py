"""`make bench-ingest`: load on activity-ingest, figures in bench/results/ingest.json.

On a stack started here on free ports, then on the bare twin (bench/twin.py) in the same run:
- batched: BATCH_CLIENTS clients POST batches of 500 new events for BENCH_BATCH_SECONDS (20);
  events accepted per second, and for every accepted event the lag from sending its request to
  its record on Kafka (the relay's send, the record timestamp); events still not on Kafka 30 s
  after the load are counted (events_not_seen_on_kafka);
- single: wrk, 50 connections, one event per request for BENCH_SINGLE_SECONDS (20);
- open loop: BENCH_OPEN_RATE (1,000) single events a second for BENCH_OPEN_SECONDS (15);
- CPU per request of each process group (api, worker, PostgreSQL, twin) over each phase.
"""

import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer

sys.path.insert(0, str(Path(__file__).parent))
from load import OPEN_RATE, bare_twin, cpu_ms_per, open_loop_posts, publish, wrk
from stack import Stack, own_stack

from keel.events.catalogue import ACTIVITY_PERFORMED

BATCH = 500
BATCH_CLIENTS = int(os.environ.get("BENCH_BATCH_CLIENTS", "4"))
BATCH_SECONDS = int(os.environ.get("BENCH_BATCH_SECONDS", "20"))
SINGLE_SECONDS = int(os.environ.get("BENCH_SINGLE_SECONDS", "20"))
DRAIN_S = 30
SINGLE_CONNECTIONS = 50
TARGETS = {
    "batched_events_per_s": ">= 20000",
    "single_requests_per_s": ">= 2000",
    "open_loop_p99_ms": "<= 25 at 1000 requests/s offered",
    "ceiling_ratio": ">= 0.7 on every path",
    "publish_lag_p99_ms": "<= 1000 under 10,000 events/s",
}


def batch_body(run: str, client: int, number: int) -> bytes:
    events = [
        {
            "specversion": "1.0",
            "id": f"batch-{run}-{client}-{number}-{i}",
            "source": "bench/batched",
            "type": ACTIVITY_PERFORMED,
            "time": "2025-03-14T09:30:00Z",
            "data": {
                "user_id": f"u-{i}",
                "user_email": f"u{i}@agency.example",
                "client_id": f"c-{(number * BATCH + i) % 5000}",
                "tool": "landing_page",
                "action": "landing_page.edited",
            },
        }
        for i in range(BATCH)
    ]
    return json.dumps(events).encode()


async def batched(url: str, token: str, bootstrap: str, seconds: int) -> dict[str, Any]:
    """Batches of 500 new events from BATCH_CLIENTS clients for `seconds`; then waits (up to
    DRAIN_S) until every accepted event is seen on Kafka. Publish lag: from sending the request
    that carried an event to its record's timestamp on Kafka (the relay's send), an upper bound
    of commit-to-publish."""
    run = uuid.uuid4().hex[:8]
    sent_at: dict[str, float] = {}  # accepted, not yet seen on Kafka: id -> request sent
    seen_at: dict[str, float] = {}  # seen on Kafka before its 202 came back: id -> record time
    lags_ms: list[float] = []
    accepted = 0
    statuses: dict[int, int] = {}
    headers = {
        "Authorization": f"Bearer {token}",
        "content-type": "application/cloudevents-batch+json",
    }
    consumer = AIOKafkaConsumer(
        "activity.events.v1",
        bootstrap_servers=bootstrap,
        auto_offset_reset="latest",
        fetch_max_wait_ms=20,
        max_partition_fetch_bytes=8 * 1024 * 1024,
    )
    await consumer.start()
    await consumer.seek_to_end()
    prefix = f"batch-{run}-".encode()
    clients_done = asyncio.Event()

    def match(event_id: str, record_ms: float) -> None:
        started = sent_at.pop(event_id, None)
        if started is None:
            seen_at[event_id] = record_ms
        else:
            lags_ms.append(max(record_ms - started * 1000, 0.0))

    async def consume() -> None:
        deadline = None
        while True:
            if clients_done.is_set():
                deadline = deadline or time.time() + DRAIN_S
                if not sent_at or time.time() > deadline:
                    return
            for records in (await consumer.getmany(timeout_ms=200, max_records=5000)).values():
                for record in records:
                    if prefix in record.value:
                        match(json.loads(record.value)["id"], record.timestamp)

    async def client(number: int, until: float) -> None:
        nonlocal accepted
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            sent = 0
            while time.monotonic() < until:
                body = batch_body(run, number, sent)
                sent += 1
                started = time.time()
                answer = await http.post("/v1/events", content=body, headers=headers)
                statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
                if answer.status_code == 202:
                    report = answer.json()
                    accepted += report["accepted"]
                    for result in report["results"]:
                        if result["status"] == "accepted":
                            record_ms = seen_at.pop(result["id"], None)
                            if record_ms is None:
                                sent_at[result["id"]] = started
                            else:
                                lags_ms.append(max(record_ms - started * 1000, 0.0))

    started = time.monotonic()
    drain = asyncio.create_task(consume())
    await asyncio.gather(*(client(n, started + seconds) for n in range(BATCH_CLIENTS)))
    elapsed = time.monotonic() - started
    clients_done.set()
    await drain
    await consumer.stop()
    lags_ms.sort()
    return {
        "events_per_s": round(accepted / elapsed, 1),
        "accepted": accepted,
        "requests": sum(statuses.values()),
        "statuses": statuses,
        "publish_lag_p50_ms": round(statistics.median(lags_ms), 1) if lags_ms else None,
        "publish_lag_p99_ms": round(lags_ms[int(len(lags_ms) * 0.99) - 1], 1) if lags_ms else None,
        "publish_lag_samples": len(lags_ms),
        # Accepted (202) but not on Kafka DRAIN_S seconds after the load stopped.
        "events_not_seen_on_kafka": len(sent_at),
    }


def single_body(run: str, index: int) -> bytes:
    return json.dumps(
        {
            "specversion": "1.0",
            "id": f"open-{run}-{index}",
            "source": "bench/open-loop",
            "type": ACTIVITY_PERFORMED,
            "time": "2025-03-14T09:30:00Z",
            "data": {
                "user_id": f"u-{index % 500}",
                "user_email": f"u{index % 500}@agency.example",
                "client_id": f"c-{index % 2000}",
                "tool": "blog",
                "action": "blog.post_published",
            },
        }
    ).encode()


def single_phases(url: str, token: str) -> dict[str, Any]:
    """wrk at SINGLE_CONNECTIONS closed-loop connections, then the open loop at OPEN_RATE."""
    closed = wrk(
        url,
        "ingest_single.lua",
        [token, uuid.uuid4().hex[:8]],
        seconds=SINGLE_SECONDS,
        connections=SINGLE_CONNECTIONS,
    )
    run = uuid.uuid4().hex[:8]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/cloudevents+json"}
    opened = open_loop_posts(url, headers, lambda i: ("/v1/events", single_body(run, i)))
    return {"closed": closed, "open": opened}


def measure(stack: Stack, url: str, cpu: Callable[[], dict[str, float]]) -> dict[str, Any]:
    """Every phase against one URL (ours or the twin), with CPU per request of each group."""
    before = cpu()
    loaded = asyncio.run(batched(url, stack.token, stack.kafka, BATCH_SECONDS))
    between = cpu()
    phases = single_phases(url, stack.token)
    after = cpu()
    return {
        "batched": loaded,
        "closed": phases["closed"],
        "open": phases["open"],
        "cpu_batched": cpu_ms_per(before, between, loaded["accepted"], GROUPS),
        "cpu_single": cpu_ms_per(between, after, phases["closed"]["requests"]
                                 + phases["open"].answered, GROUPS),
    }  # fmt: skip


GROUPS = {
    "api": ["activity-ingest-api"],
    "worker": ["activity-ingest-worker"],
    "postgresql": ["postgres"],
    "bare_twin": ["twin"],
}


def main() -> None:
    with own_stack() as stack:
        url = stack.url("activity-ingest")
        ours = measure(stack, url, stack.cpu_seconds)
        with bare_twin(stack) as twin:
            bare = measure(stack, twin.url, twin.cpu_seconds)
    figures: dict[str, object] = {
        "batched_events_per_s": ours["batched"]["events_per_s"],
        "batched_requests": ours["batched"]["requests"],
        "batched_statuses": ours["batched"]["statuses"],
        "batched_clients": BATCH_CLIENTS,
        "publish_lag_p50_ms": ours["batched"]["publish_lag_p50_ms"],
        "publish_lag_p99_ms": ours["batched"]["publish_lag_p99_ms"],
        "publish_lag_samples": ours["batched"]["publish_lag_samples"],
        "events_not_seen_on_kafka": ours["batched"]["events_not_seen_on_kafka"],
        "single_requests_per_s": ours["closed"]["requests_per_s"],
        "single_p50_ms": ours["closed"]["p50_ms"],
        "single_p90_ms": ours["closed"]["p90_ms"],
        "single_p99_ms": ours["closed"]["p99_ms"],
        "single_max_ms": ours["closed"]["max_ms"],
        "single_errors": ours["closed"]["errors"] + ours["closed"]["non_2xx"],
        "single_connections": SINGLE_CONNECTIONS,
        "open_loop_offered_per_s": OPEN_RATE,
        "open_loop_p50_ms": ours["open"].percentile(0.5),
        "open_loop_p99_ms": ours["open"].percentile(0.99),
        "open_loop": ours["open"].figures("single"),
        "bare_twin_batched_events_per_s": bare["batched"]["events_per_s"],
        "bare_twin_single_requests_per_s": bare["closed"]["requests_per_s"],
        "bare_twin_single_p99_ms": bare["closed"]["p99_ms"],
        "bare_twin_open_loop_p99_ms": bare["open"].percentile(0.99),
        "bare_twin_publish_lag_p99_ms": bare["batched"]["publish_lag_p99_ms"],
        "ceiling_ratio": {
            "single": round(ours["closed"]["requests_per_s"] / bare["closed"]["requests_per_s"], 2),
            "batched": round(ours["batched"]["events_per_s"] / bare["batched"]["events_per_s"], 2),
        },
        "cpu_ms_per_request": {
            "single": _without_twin(ours["cpu_single"]),
            "batched_per_event": _without_twin(ours["cpu_batched"]),
            "bare_twin_single": _twin_only(bare["cpu_single"]),
            "bare_twin_batched_per_event": _twin_only(bare["cpu_batched"]),
        },
    }
    publish(
        "ingest",
        figures,
        TARGETS,
        (
            "Load generators, the whole stack (api and worker per service), PostgreSQL and the "
            "broker share one machine with other engineers' work. The bare twin (bench/twin.py: "
            "FastAPI + asyncpg, the same durable statement, no auth or validation) is measured "
            "the same way in the same run. Publish lag: request sent -> record timestamp on "
            "Kafka. CPU from /proc (user + system) per process group over each phase."
        ),
    )


def _without_twin(figures: dict[str, float]) -> dict[str, float]:
    return {name: value for name, value in figures.items() if name != "bare_twin"}


def _twin_only(figures: dict[str, float]) -> dict[str, float]:
    return {"bare_twin": figures["bare_twin"], "postgresql": figures["postgresql"],
            "worker": figures["worker"]}  # fmt: skip


if __name__ == "__main__":
    main()
