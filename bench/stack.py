"""A running stack for a benchmark: the one already answering on 127.0.0.1, or one started here."""

import json
import os
import platform
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
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
