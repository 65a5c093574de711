"""A running stack for a benchmark: the one already answering on 127.0.0.1, or one started here."""

import json
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORTS = (8001, 8002, 8003, 8004, 8005)


def ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


@contextmanager
def running_stack(timeout_s: float = 180) -> Iterator[str]:
    """Yields the admin token; stops the stack afterwards if it started it."""
    process = None
    if not all(ready(port) for port in PORTS):
        print("[bench] starting the stack (make run)", flush=True)
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "keel-devstack"), "run"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout_s
        while not all(ready(port) for port in PORTS):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the stack did not come up; see .local/logs")
            time.sleep(0.5)
    try:
        yield (ROOT / ".local" / "dev-token").read_text().strip()
    finally:
        if process is not None:
            process.send_signal(subprocess.signal.SIGINT)  # type: ignore[attr-defined]
            process.wait(60)


def with_context(
    figures: dict[str, object], targets: dict[str, str], notes: str
) -> dict[str, object]:
    """The figures with their targets, the machine, the time of measuring and notes."""
    return {
        **figures,
        "targets": targets,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "notes": notes,
    }


def write_results(name: str, figures: dict[str, object]) -> Path:
    path = ROOT / "bench" / "results" / f"{name}.json"
    path.write_text(json.dumps(figures, indent=2) + "\n")
    return path


def p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return round(ordered[max(int(len(ordered) * 0.99) - 1, 0)], 2)


DEVSTACK_LOG = ROOT / ".local" / "logs" / "bench-devstack.log"


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_block() -> int:
    """A first port p with p..p+3 (APIs) and p+1000..p+1003 (worker metrics) all free."""
    for first in range(18101, 19000, 10):
        if all(_port_free(first + n) and _port_free(first + 1000 + n) for n in range(4)):
            return first
    raise RuntimeError("no free block of ports for the benchmark's stack")


@dataclass
class Stack:
    """A stack this benchmark started on ports of its own (other stacks may run beside it)."""

    token: str
    first_port: int
    kafka: str
    postgres_port: int
    devstack_pid: int

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.first_port + SERVICES.index(service)}"

    def database_url(self, service: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.postgres_port}/{service.replace('-', '_')}"

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time used so far, from the kernel's accounting (/proc/<pid>/stat: user + system,
        plus the reaped children of each group's root), per process as `group:pid`; groups are
        each service's api (all its uvicorn processes), each service's worker, and PostgreSQL
        (postmaster and every backend). `cpu_ms_per` sums a group's processes' increases."""
        processes = _processes()
        postmaster = int((ROOT / ".local" / "postgres" / "postmaster.pid").read_text().split()[0])
        roots: dict[int, str] = {postmaster: "postgres"}
        for pid, (_, _, _, command) in processes.items():
            for service in SERVICES:
                for role in ("api", "worker"):
                    if command[2:3] == [role] and command[1].endswith(f"/{service}"):
                        roots[pid] = f"{service}-{role}"
        used: dict[str, float] = {}
        for pid, (_, own, reaped, _) in processes.items():
            group, at = None, pid
            while at in processes and group is None:
                group = roots.get(at)
                at = processes[at][0]
            if group is not None:
                used[f"{group}:{pid}"] = own + (reaped if pid in roots else 0.0)
        return used


def _processes() -> dict[int, tuple[int, float, float, list[str]]]:
    """pid -> (parent pid, own CPU s, reaped children's CPU s, command line)."""
    tick = os.sysconf("SC_CLK_TCK")
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        ppid = int(fields[1])
        utime, stime, cutime, cstime = (int(v) / tick for v in fields[11:15])
        found[int(entry.name)] = (ppid, utime + stime, cutime + cstime, [c for c in command if c])
    return found


SERVICES = ["activity-ingest", "credit-ledger", "tier-engine", "capacity"]


@contextmanager
def own_stack(timeout_s: float = 240) -> Iterator[Stack]:
    """`make run` on free ports of its own, stopped afterwards; never a stack already running
    (on a shared machine that may be someone else's)."""
    first = _free_block()
    DEVSTACK_LOG.parent.mkdir(parents=True, exist_ok=True)
    print(f"[bench] starting the stack on ports {first}-{first + 3}", flush=True)
    with DEVSTACK_LOG.open("w") as log:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "keel-devstack"), "run"],
            cwd=ROOT,
            env={**os.environ, "DEVSTACK_PORT": str(first)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + timeout_s
        while "admin token in" not in DEVSTACK_LOG.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the stack did not come up; see {DEVSTACK_LOG}")
            time.sleep(0.5)
        said = DEVSTACK_LOG.read_text()
        kafka = re.search(r"Kafka \(Tansu, memory storage\) (\S+)", said)
        postgres = re.search(r"PostgreSQL postgresql\S*?@127\.0\.0\.1:(\d+)/", said)
        if kafka is None or postgres is None:
            raise RuntimeError(f"cannot find the broker or the database in {DEVSTACK_LOG}")
        yield Stack(
            token=(ROOT / ".local" / "dev-token").read_text().strip(),
            first_port=first,
            kafka=kafka.group(1),
            postgres_port=int(postgres.group(1)),
            devstack_pid=process.pid,
        )
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(90)
