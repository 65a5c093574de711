"""How the benchmarks load a service and account for it: wrk (closed loop, C), an open-loop
generator of our own, the bare twin, and CPU per request from the processes' own accounting.

Open loop: requests leave at a fixed offered rate whatever the answers do.

At N closed-loop connections latency is about N / throughput, so a percentile there only
restates throughput. Here request i is due at start + i / rate; its latency runs from when it
was due (not from when a connection was free to send it), so a server that falls behind shows
it in the percentiles instead of slowing the load down (no coordinated omission). Keep-alive
HTTP/1.1 over plain asyncio streams, so the generator costs far less CPU than the services.
"""

import asyncio
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from stack import ROOT, Stack, _processes, write_results

# The open-loop phase of both benchmarks, and how many api processes the stack (make run) and the
# twin get.
OPEN_SECONDS = int(os.environ.get("BENCH_OPEN_SECONDS", "15"))
OPEN_RATE = float(os.environ.get("BENCH_OPEN_RATE", "1000"))
API_PROCESSES = int(os.environ.get("SERVICE_API_PROCESSES", "2"))


@dataclass
class OpenLoopResult:
    offered_per_s: float
    seconds: float
    elapsed_s: float = 0.0  # from the first request due to the last answer
    sent: int = 0
    answered: int = 0
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)

    def percentile(self, q: float) -> float | None:
        if not self.latencies_ms:
            return None
        ordered = sorted(self.latencies_ms)
        return round(ordered[min(int(len(ordered) * q), len(ordered) - 1)], 2)

    def figures(self, prefix: str) -> dict[str, object]:
        return {
            f"{prefix}_offered_per_s": self.offered_per_s,
            f"{prefix}_achieved_per_s": round(self.answered / max(self.elapsed_s, self.seconds), 1),
            f"{prefix}_p50_ms": self.percentile(0.50),
            f"{prefix}_p99_ms": self.percentile(0.99),
            f"{prefix}_max_ms": self.percentile(1.0),
            f"{prefix}_errors": self.errors,
            f"{prefix}_statuses": self.statuses,
        }


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> int:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    return status


async def open_loop(
    host: str,
    port: int,
    request: Callable[[int], bytes],
    *,
    rate: float,
    seconds: float,
    max_connections: int = 256,
) -> OpenLoopResult:
    """`request(i)` gives the bytes of request i (a full HTTP/1.1 request, keep-alive)."""
    result = OpenLoopResult(offered_per_s=rate, seconds=seconds)
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    opened = 0
    slots = asyncio.Semaphore(max_connections)

    async def one(index: int, due: float) -> None:
        nonlocal opened
        async with slots:
            # A kept-alive connection the server has closed while it was idle (uvicorn does
            # after 5 s) is dropped, as HTTP clients do, not counted as the server's error.
            while idle and idle[-1][0].at_eof():
                idle.pop()[1].close()
            if idle:
                reader, writer = idle.pop()
            else:
                opened += 1
                reader, writer = await asyncio.open_connection(host, port)
            try:
                status = await _exchange(reader, writer, request(index))
            except (OSError, asyncio.IncompleteReadError, ValueError):
                result.errors += 1
                writer.close()
                return
            result.latencies_ms.append((time.perf_counter() - due) * 1000)
            result.answered += 1
            result.statuses[status] = result.statuses.get(status, 0) + 1
            idle.append((reader, writer))

    started = time.perf_counter()
    total = int(rate * seconds)
    tasks = []
    for index in range(total):
        due = started + index / rate
        pause = due - time.perf_counter()
        if pause > 0:
            await asyncio.sleep(pause)
        tasks.append(asyncio.create_task(one(index, due)))
        result.sent += 1
    await asyncio.gather(*tasks)
    result.elapsed_s = time.perf_counter() - started
    for _, writer in idle:
        writer.close()
    return result


def http_post(host: str, path: str, headers: dict[str, str], body: bytes) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def open_loop_posts(
    url: str, headers: dict[str, str], post: Callable[[int], tuple[str, bytes]]
) -> OpenLoopResult:
    """The open-loop phase: POSTs at OPEN_RATE for OPEN_SECONDS, `post(i)` giving the path and
    body of request i."""
    host, port = url.removeprefix("http://").split(":")

    def request(index: int) -> bytes:
        path, body = post(index)
        return http_post(host, path, headers, body)

    return asyncio.run(open_loop(host, int(port), request, rate=OPEN_RATE, seconds=OPEN_SECONDS))


def wrk(
    url: str, script: str, args: list[str], *, seconds: int, connections: int
) -> dict[str, float]:
    """wrk (2 threads, keep-alive) with a Lua script from bench/ that prints WRK_JSON."""
    binary = shutil.which("wrk")
    if binary is None:
        raise RuntimeError("wrk is not installed (the make target installs it with apt-get)")
    output = subprocess.run(
        [binary, "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s",
         str(ROOT / "bench" / script), url, "--", *args],
        capture_output=True,
        text=True,
        check=True,
    ).stdout  # fmt: skip
    line = next(line for line in output.splitlines() if line.startswith("WRK_JSON "))
    figures = json.loads(line.removeprefix("WRK_JSON "))
    duration = figures["duration_us"] / 1e6
    return {
        "requests": figures["requests"],
        "requests_per_s": round(figures["requests"] / duration, 1),
        "p50_ms": round(figures["p50_us"] / 1000, 2),
        "p90_ms": round(figures["p90_us"] / 1000, 2),
        "p99_ms": round(figures["p99_us"] / 1000, 2),
        "max_ms": round(figures["max_us"] / 1000, 2),
        "non_2xx": figures["errors_status"],
        "errors": figures["errors_timeout"] + figures["errors_connect"]
        + figures.get("errors_read", 0),
    }  # fmt: skip


def cpu_ms_per(
    before: dict[str, float], after: dict[str, float], count: int, groups: dict[str, list[str]]
) -> dict[str, float]:
    """CPU milliseconds per unit of work of each group over a phase. `before` and `after` map
    `name:pid` to CPU seconds; a process gone by `after` is left out (its time since `before`
    is lost, never counted negative), one new since `before` counts from zero."""
    per_name: dict[str, float] = {}
    for key, seconds in after.items():
        name = key.rsplit(":", 1)[0]
        per_name[name] = per_name.get(name, 0.0) + seconds - before.get(key, 0.0)
    return {
        group: round(sum(per_name.get(n, 0.0) for n in names) * 1000 / max(count, 1), 3)
        for group, names in groups.items()
    }


@dataclass
class Twin:
    url: str
    pid: int
    stack: Stack

    def cpu_seconds(self) -> dict[str, float]:
        """The stack's processes (as Stack.cpu_seconds) and the twin's uvicorn processes (the
        parent and its children, as `twin:pid`): the twin is measured with the stack beside it."""
        processes = _processes()
        used = self.stack.cpu_seconds()
        for pid, (_, own, _, _) in processes.items():
            at = pid
            while at in processes and at != self.pid:
                at = processes[at][0]
            if at == self.pid:
                used[f"twin:{pid}"] = own
        return used


@contextmanager
def bare_twin(stack: Stack) -> Iterator[Twin]:
    """The bare twin (bench/twin.py) on a free port with API_PROCESSES processes, over the
    stack's ingest and capacity databases."""
    port = free_port()
    env = {
        **os.environ,
        "TWIN_INGEST_DSN": stack.database_url("activity-ingest"),
        "TWIN_CAPACITY_DSN": stack.database_url("capacity"),
    }
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "twin.py"), str(port), str(API_PROCESSES)], env=env
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/docs", timeout=2)  # noqa: S310 - our own twin
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the bare twin did not start") from None
                time.sleep(0.3)
        yield Twin(url, process.pid, stack)
    finally:
        process.terminate()
        process.wait(30)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def publish(name: str, figures: dict[str, object], targets: dict[str, str], notes: str) -> None:
    """Add what every result says about its run, write bench/results/<name>.json, print it."""
    figures.update(
        {
            "api_processes": API_PROCESSES,
            "targets": targets,
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
            "load_average_after": os.getloadavg(),
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "notes": notes,
        }
    )
    path = write_results(name, figures)
    print(json.dumps(figures, indent=2))
    print(f"[bench] written to {path}")
