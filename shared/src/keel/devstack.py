"""`make run`: the whole system on one machine.

With no database URLs and no `KAFKA_BOOTSTRAP_SERVERS` given, it starts PostgreSQL (data kept
in `.local/postgres`, surviving restarts) and the Tansu broker; with them given it starts
neither and uses those. Then it creates the databases and topics, runs every migration, writes a
development `admin` token to `.local/dev-token`, starts each service's api and worker, waits
until every /readyz answers 200 and prints where everything is. A process that exits is started
again after a backoff, as Kubernetes restarts a pod, and the console says so. Ctrl-C stops all it
started.

`keel-devstack token --scope partner:read --partner-id p-1` prints another development token.
"""

import argparse
import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from pydantic import SecretStr

from keel.auth import Scope, issue_token
from keel.clock import SystemClock
from keel.dbadmin import create_database
from keel.embedded.ports import free_port, port_is_free
from keel.embedded.postgres import EmbeddedPostgres
from keel.embedded.tansu import EmbeddedTansu
from keel.events.topics import all_topics
from keel.kafka.admin import ensure_topics
from keel.settings import AuthSettings, KafkaSettings


@dataclass(frozen=True, slots=True)
class Service:
    name: str
    port: int

    @property
    def worker_metrics_port(self) -> int:
        return self.port + 1000

    @property
    def database(self) -> str:
        return self.name.replace("-", "_")

    @property
    def url_variable(self) -> str:
        """Where `make run` reads this service's database URL: CREDIT_LEDGER_DATABASE_URL..."""
        return f"{self.database.upper()}_DATABASE_URL"


SERVICES = (
    Service("activity-ingest", 8001),
    Service("credit-ledger", 8002),
    Service("tier-engine", 8003),
    Service("capacity", 8004),
    Service("partner-portal", 8005),
)
PORTS = {service.name: service.port for service in SERVICES}
# Where the portal finds the four services it reads (its PORTAL_*_URL settings).
PORTAL_UPSTREAMS = {
    "PORTAL_INGEST_URL": "activity-ingest",
    "PORTAL_LEDGER_URL": "credit-ledger",
    "PORTAL_TIER_URL": "tier-engine",
    "PORTAL_CAPACITY_URL": "capacity",
}
LOCAL = Path(".local")
POSTGRES_PORT = 54329
KAFKA_PORT = 19092
READY_TIMEOUT_S = 90
TOKEN_TTL = timedelta(days=30)
# Kubernetes' CrashLoopBackOff, shortened for a laptop: 1 s, 2 s, 4 s... at most 30 s, back to
# 1 s once the process has run for a minute.
FIRST_RESTART_S = 1.0
MAX_RESTART_S = 30.0
HEALTHY_AFTER_S = 60.0


def _say(message: str) -> None:
    print(f"[devstack] {message}", flush=True)  # noqa: T201 - this is a console program


def _port(preferred: int) -> int:
    return preferred if port_is_free(preferred) else free_port()


def _bin(command: str) -> str:
    return str(Path(sys.executable).parent / command)


def _jwt_secret() -> str:
    if secret := os.environ.get("AUTH_JWT_SECRET"):
        return secret
    path = LOCAL / "jwt-secret"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _token(secret: str, scopes: list[Scope], partner_id: str | None, subject: str) -> str:
    return issue_token(
        AuthSettings(jwt_secret=SecretStr(secret)),
        subject=subject,
        scopes=scopes,
        partner_id=partner_id,
        now=SystemClock().now(),
        ttl=TOKEN_TTL,
    )


def restart_delay(restarts: int) -> float:
    """How long to wait before starting a process again after its `restarts`-th exit in a row."""
    return min(FIRST_RESTART_S * 2.0**restarts, MAX_RESTART_S)


@dataclass
class Child:
    """One process the stack runs, started again whenever it exits."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    started_at: float = 0.0
    restarts: int = 0  # exits in a row without a healthy run between them
    restart_at: float | None = None  # set while waiting to start again

    def start(self, now: float) -> None:
        with self.log_path.open("ab") as log:
            # Its own process group (and no terminal input): Ctrl-C reaches only the stack,
            # which stops its children itself.
            self.process = subprocess.Popen(
                self.argv,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                process_group=0,
            )
        self.started_at = now
        self.restart_at = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


class Stack:
    def __init__(self, logs: Path = LOCAL / "logs") -> None:
        self.logs = logs
        self.children: list[Child] = []
        self.postgres: EmbeddedPostgres | None = None
        self.tansu: EmbeddedTansu | None = None

    def start_infrastructure(self) -> tuple[dict[str, str], str, bool]:
        """Database URL per service, Kafka bootstrap servers, whether idempotence is supported."""
        urls = {s.name: os.environ.get(s.url_variable, "") for s in SERVICES}
        if all(urls.values()):
            _say("database URLs given: starting no PostgreSQL")
        else:
            self.postgres = EmbeddedPostgres(LOCAL / "postgres", _port(POSTGRES_PORT))
            admin_url = self.postgres.start()
            _say(f"PostgreSQL {admin_url} (data in {LOCAL / 'postgres'})")
            for service in SERVICES:
                if not urls[service.name]:
                    urls[service.name] = asyncio.run(create_database(admin_url, service.database))
        if servers := os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
            _say(f"KAFKA_BOOTSTRAP_SERVERS given ({servers}): starting no broker")
            idempotence = os.environ.get("KAFKA_ENABLE_IDEMPOTENCE", "true").lower() == "true"
            return urls, servers, idempotence
        self.tansu = EmbeddedTansu(_port(KAFKA_PORT), log_path=self.logs / "tansu.log")
        servers = self.tansu.start()
        _say(f"Kafka (Tansu, memory storage) {servers}")
        return urls, servers, False

    def spawn(self, service: str, command: str, env: dict[str, str]) -> Child:
        """Start `<service> <command>` (the image's entry point), logging to its own file."""
        name = f"{service}-{command}"
        child = Child(name, [_bin(service), command], env, self.logs / f"{name}.log")
        child.start(time.monotonic())
        self.children.append(child)
        return child

    def supervise(self, now: float) -> None:
        """Start again, after its backoff, each child that exited, as the cluster would."""
        for child in self.children:
            if child.restart_at is not None:
                if now >= child.restart_at:
                    child.start(now)
                    _say(f"{child.name} started again (restart {child.restarts})")
                continue
            assert child.process is not None
            code = child.process.poll()
            if code is None:
                if child.restarts and now - child.started_at >= HEALTHY_AFTER_S:
                    child.restarts = 0
                continue
            delay = restart_delay(child.restarts)
            child.restarts += 1
            child.restart_at = now + delay
            _say(
                f"{child.name} exited with {code} (see {child.log_path}); "
                f"starting it again in {delay:g}s"
            )

    def stop(self) -> None:
        running = [child.process for child in self.children if child.running]
        for process in running:
            assert process is not None
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 30
        for process in running:
            assert process is not None
            try:
                process.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                process.kill()
        if self.tansu is not None:
            self.tansu.stop()
        if self.postgres is not None:
            self.postgres.stop()
        _say("stopped")


def _wait_ready(stack: Stack, interrupted: Callable[[], bool]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    pending = list(SERVICES)
    while pending and not interrupted():
        stack.supervise(time.monotonic())
        if time.monotonic() > deadline:
            raise RuntimeError(f"not ready within {READY_TIMEOUT_S}s: {[s.name for s in pending]}")
        service = pending[0]
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{service.port}/readyz", timeout=2
            ) as answer:
                if answer.status == 200:
                    pending.pop(0)
                    continue
        except OSError:
            pass
        time.sleep(0.2)


def _migrate(urls: dict[str, str], base_env: dict[str, str]) -> None:
    """Every service's migrations, side by side; each writes to its own log."""
    running = []
    for service in SERVICES:
        log = open(LOCAL / "logs" / f"{service.name}-migrate.log", "ab")  # noqa: SIM115
        env = {**base_env, "DATABASE_URL": urls[service.name]}
        command = [_bin(service.name), "migrate"]
        running.append((service, subprocess.Popen(command, env=env, stdout=log, stderr=log)))
    failed = [service.name for service, process in running if process.wait() != 0]
    if failed:
        raise RuntimeError(f"migrations failed for {failed}: see {LOCAL / 'logs'}/*-migrate.log")


def run() -> int:
    (LOCAL / "logs").mkdir(parents=True, exist_ok=True)
    stack = Stack()
    stopping = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        urls, servers, idempotence = stack.start_infrastructure()
        (LOCAL / "kafka-servers").write_text(servers + "\n")  # for `make dlq`
        kafka = KafkaSettings(bootstrap_servers=servers, enable_idempotence=idempotence)
        created = asyncio.run(ensure_topics(kafka, all_topics()))
        _say(f"topics ready ({len(created)} created)")
        secret = _jwt_secret()
        base_env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": servers,
            "KAFKA_ENABLE_IDEMPOTENCE": str(idempotence).lower(),
            "AUTH_JWT_SECRET": secret,
            "SERVICE_ENVIRONMENT": os.environ.get("SERVICE_ENVIRONMENT", "local"),
            **{
                variable: f"http://127.0.0.1:{PORTS[name]}"
                for variable, name in PORTAL_UPSTREAMS.items()
            },
        }
        _migrate(urls, base_env)
        _say("migrations applied")
        token_path = LOCAL / "dev-token"
        token_path.write_text(_token(secret, [Scope.ADMIN], None, "devstack-admin") + "\n")
        for service in SERVICES:
            env = {
                **base_env,
                "DATABASE_URL": urls[service.name],
                "SERVICE_HOST": "127.0.0.1",
                "SERVICE_PORT": str(service.port),
                "SERVICE_WORKER_METRICS_PORT": str(service.worker_metrics_port),
            }
            stack.spawn(service.name, "api", env)
            stack.spawn(service.name, "worker", env)
        _wait_ready(stack, lambda: stopping)
        for service in SERVICES:
            _say(
                f"{service.name:<16} http://127.0.0.1:{service.port} (docs /docs, /readyz)"
                f"  worker metrics http://127.0.0.1:{service.worker_metrics_port}/metrics"
            )
        _say(f"admin token in {token_path}; logs in {LOCAL / 'logs'}; Ctrl-C stops everything")
        while not stopping:
            stack.supervise(time.monotonic())
            time.sleep(0.5)
        return 0
    finally:
        stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="keel-devstack", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", help="start everything (the default)")
    token = commands.add_parser("token", help="print a development token")
    token.add_argument("--scope", action="append", choices=[s.value for s in Scope], required=True)
    token.add_argument("--partner-id")
    token.add_argument("--subject", default="developer")
    args = parser.parse_args()
    if args.command == "token":
        LOCAL.mkdir(exist_ok=True)
        scopes = [Scope(s) for s in args.scope]
        print(_token(_jwt_secret(), scopes, args.partner_id, args.subject))  # noqa: T201
        return
    sys.exit(run())
