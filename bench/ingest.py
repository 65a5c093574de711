"""`make bench-ingest`: load on activity-ingest, figures in bench/results/ingest.json.

- batched: concurrent clients POST batches of 500 new events for 30 s; events accepted per
  second, and for every accepted event the lag from its 202 to its record on Kafka (the relay's
  send time, the record timestamp), read back by a consumer on the activity topic;
- single: wrk, 50 connections, one event per request for 20 s; requests/s and latency.
"""

import asyncio
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer

sys.path.insert(0, str(Path(__file__).parent))
from stack import ROOT, running_stack, write_results

URL = "http://127.0.0.1:8001"
BATCH = 500
BATCH_CLIENTS = int(os.environ.get("BENCH_BATCH_CLIENTS", "4"))
BATCH_SECONDS = int(os.environ.get("BENCH_BATCH_SECONDS", "30"))
SINGLE_SECONDS = int(os.environ.get("BENCH_SINGLE_SECONDS", "20"))
SINGLE_CONNECTIONS = 50
TARGETS = {
    "batched_events_per_s": ">= 15000",
    "single_requests_per_s": ">= 1500",
    "single_p99_ms": "<= 25",
}


def batch_body(run: str, client: int, number: int) -> bytes:
    events = [
        {
            "specversion": "1.0",
            "id": f"batch-{run}-{client}-{number}-{i}",
            "source": "bench/batched",
            "type": "activity.performed",
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


async def batched(token: str, bootstrap: str) -> dict[str, float]:
    run = uuid.uuid4().hex[:8]
    accepted_at: dict[str, float] = {}
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
    prefix = f'"id":"batch-{run}-'.encode()

    clients_done = asyncio.Event()

    async def consume(until: float) -> None:
        while time.time() < until and not (clients_done.is_set() and not accepted_at):
            for records in (await consumer.getmany(timeout_ms=200, max_records=5000)).values():
                for record in records:
                    if prefix in record.value:
                        event_id = json.loads(record.value)["id"]
                        pending = accepted_at.pop(event_id, None)
                        if pending is not None:
                            lags_ms.append(max(record.timestamp - pending * 1000, 0.0))

    async def client(number: int, until: float) -> None:
        nonlocal accepted
        async with httpx.AsyncClient(base_url=URL, timeout=60) as http:
            sent = 0
            while time.monotonic() < until:
                body = batch_body(run, number, sent)
                sent += 1
                answer = await http.post("/v1/events", content=body, headers=headers)
                done = time.time()
                statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
                if answer.status_code == 202:
                    report = answer.json()
                    accepted += report["accepted"]
                    for result in report["results"]:
                        if result["status"] == "accepted":
                            accepted_at[result["id"]] = done

    started = time.monotonic()
    end = started + BATCH_SECONDS
    drain = asyncio.create_task(consume(time.time() + BATCH_SECONDS + 30))
    await asyncio.gather(*(client(n, end) for n in range(BATCH_CLIENTS)))
    elapsed = time.monotonic() - started
    clients_done.set()
    await drain
    await consumer.stop()
    lags_ms.sort()
    return {
        "batched_events_per_s": round(accepted / elapsed, 1),
        "batched_requests": sum(statuses.values()),
        "batched_statuses": statuses,
        "batched_clients": BATCH_CLIENTS,
        "publish_lag_p50_ms": round(statistics.median(lags_ms), 1) if lags_ms else None,
        "publish_lag_p99_ms": round(lags_ms[int(len(lags_ms) * 0.99) - 1], 1) if lags_ms else None,
        "publish_lag_samples": len(lags_ms),
        "events_not_seen_on_kafka": len(accepted_at),
    }


def single(token: str) -> dict[str, float]:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is not installed (make bench-ingest installs it with apt-get)")
    output = subprocess.run(
        [
            wrk,
            "-t2",
            f"-c{SINGLE_CONNECTIONS}",
            f"-d{SINGLE_SECONDS}s",
            "--timeout",
            "5s",
            "-s",
            str(ROOT / "bench" / "ingest_single.lua"),
            URL,
            "--",
            token,
            uuid.uuid4().hex[:8],
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(line for line in output.splitlines() if line.startswith("WRK_JSON "))
    figures = json.loads(line.removeprefix("WRK_JSON "))
    seconds = figures["duration_us"] / 1e6
    return {
        "single_requests_per_s": round(figures["requests"] / seconds, 1),
        "single_p50_ms": round(figures["p50_us"] / 1000, 2),
        "single_p90_ms": round(figures["p90_us"] / 1000, 2),
        "single_p99_ms": round(figures["p99_us"] / 1000, 2),
        "single_max_ms": round(figures["max_us"] / 1000, 2),
        "single_errors": figures["errors_status"]
        + figures["errors_timeout"]
        + figures["errors_connect"],
        "single_connections": SINGLE_CONNECTIONS,
    }


def main() -> None:
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092")
    with running_stack() as token:
        figures: dict[str, object] = {}
        figures.update(asyncio.run(batched(token, bootstrap)))
        figures.update(single(token))
    figures.update(
        {
            "targets": TARGETS,
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "notes": (
                "Load generator, stack (api and worker per service), PostgreSQL and the broker "
                "share the same machine. Publish lag: 202 received -> record timestamp on Kafka."
            ),
        }
    )
    path = write_results("ingest", figures)
    print(json.dumps(figures, indent=2))
    print(f"[bench] written to {path}")


if __name__ == "__main__":
    main()
