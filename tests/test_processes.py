"""The real commands, as the images run them (`<service> <command>`): an api and a worker process
start, serve, and stop cleanly on SIGTERM; the init container's `await-schema` passes once the
database is at head; `keel-topics` creates every topic once; `tier-engine rollup` stores the
newest closed month and exits; `make run` starts a killed worker again, as the cluster would."""

import asyncio
import os
import secrets
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from credit_ledger.migrate import MIGRATIONS
from keel.devstack import Stack, restart_delay
from keel.embedded.ports import free_port
from keel.events.topics import all_topics
from keel.kafka.admin import delete_topics
from keel.migrations import schema_at_head
from keel.settings import AuthSettings, KafkaSettings
from keel.testing.plugin import MakeDatabase
from keel.testing.running import eventually
from tier_engine import migrate as tier_migrate
from tier_engine.domain.calendar import latest_closed_month

BIN = Path(sys.executable).parent


def environment(
    database_url: str, kafka: KafkaSettings, auth: AuthSettings, port: int
) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
        "KAFKA_ENABLE_IDEMPOTENCE": str(kafka.enable_idempotence).lower(),
        "KAFKA_TOPIC_PREFIX": kafka.topic_prefix,
        "KAFKA_SESSION_TIMEOUT_MS": "2000",
        "KAFKA_HEARTBEAT_INTERVAL_MS": "500",
        "AUTH_JWT_SECRET": auth.jwt_secret.get_secret_value(),
        "SERVICE_ENVIRONMENT": "test",
        "SERVICE_PORT": str(port),
    }


@pytest.fixture
async def ledger_env(
    make_database: MakeDatabase, kafka_settings: KafkaSettings, auth_settings: AuthSettings
) -> dict[str, str]:
    """The environment of a credit-ledger process on a migrated database of its own, its
    `SERVICE_PORT` free."""
    return environment(await make_database(MIGRATIONS), kafka_settings, auth_settings, free_port())


async def start(env: dict[str, str], program: str, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        BIN / program,
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def finish(env: dict[str, str], program: str, *args: str) -> tuple[int, str]:
    """Run a command that ends by itself: (exit code, output)."""
    process = await start(env, program, *args)
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, output.decode()


async def stop(process: asyncio.subprocess.Process) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    output, _ = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode is not None
    return process.returncode, output.decode()


async def test_the_api_process_becomes_ready_and_stops_cleanly_on_sigterm(
    ledger_env: dict[str, str],
) -> None:
    process = await start(ledger_env, "credit-ledger", "api")
    port = ledger_env["SERVICE_PORT"]
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:

            async def ready() -> bool:
                try:
                    return (await client.get("/readyz")).status_code == 200
                except httpx.TransportError:
                    return False

            await eventually(ready, timeout_s=30)
    finally:
        returncode, output = await stop(process)
    # uvicorn shuts down gracefully, then re-raises the signal so the exit says what ended it.
    assert returncode in (0, -signal.SIGTERM), output
    assert "Application shutdown complete" in output
    assert '"service": "credit-ledger"' in output


async def test_the_worker_process_serves_metrics_and_stops_cleanly_on_sigterm(
    ledger_env: dict[str, str],
) -> None:
    metrics_port = free_port()
    env = {**ledger_env, "SERVICE_WORKER_METRICS_PORT": str(metrics_port)}
    process = await start(env, "credit-ledger", "worker")
    async with httpx.AsyncClient() as client:

        async def consumer_metrics() -> str | None:
            try:
                text = (await client.get(f"http://127.0.0.1:{metrics_port}/metrics")).text
            except httpx.TransportError:
                return None
            return text if "keel_consumer_messages_total" in text else None

        await eventually(consumer_metrics, timeout_s=30)
    await asyncio.sleep(3)  # broker connection and group join
    assert process.returncode is None, "the worker died on its own"
    returncode, output = await stop(process)
    assert returncode == 0, output
    assert "worker credit-ledger stopped cleanly" in output


async def test_an_unknown_command_is_refused_with_the_list_of_commands() -> None:
    returncode, output = await finish(dict(os.environ), "credit-ledger", "serve")
    assert returncode == 2
    assert "invalid choice: 'serve'" in output
    assert "api" in output
    assert "await-schema" in output


async def test_await_schema_passes_on_a_migrated_database(ledger_env: dict[str, str]) -> None:
    returncode, output = await finish(ledger_env, "credit-ledger", "await-schema")
    assert returncode == 0, output


async def test_the_migrate_command_brings_an_empty_database_to_head(
    make_database: MakeDatabase, kafka_settings: KafkaSettings, auth_settings: AuthSettings
) -> None:
    url = await make_database(None)
    env = environment(url, kafka_settings, auth_settings, free_port())
    assert not await schema_at_head(MIGRATIONS, url)
    returncode, output = await finish(env, "credit-ledger", "migrate")
    assert returncode == 0, output
    assert await schema_at_head(MIGRATIONS, url)


async def test_keel_topics_creates_every_topic_once_with_its_partitions(
    kafka_settings: KafkaSettings, auth_settings: AuthSettings
) -> None:
    prefix = f"jobs-{secrets.token_hex(4)}."
    env = {**environment("", kafka_settings, auth_settings, 0), "KAFKA_TOPIC_PREFIX": prefix}
    scoped = kafka_settings.model_copy(update={"topic_prefix": prefix})
    try:
        first = await finish(env, "keel-topics")
        again = await finish(env, "keel-topics")
        admin = AIOKafkaAdminClient(**scoped.connection_options())
        await admin.start()
        try:
            described = await admin.describe_topics([scoped.topic(t.name) for t in all_topics()])
        finally:
            await admin.close()
    finally:
        await delete_topics(scoped, all_topics())
    assert first[0] == 0, first[1]
    assert again[0] == 0, again[1]
    assert first[1].count("created") == len(all_topics())
    assert "created" not in again[1]
    assert again[1].count("exists") == len(all_topics())
    partitions = {entry["topic"]: len(entry["partitions"]) for entry in described}
    assert partitions == {scoped.topic(t.name): t.partitions for t in all_topics()}


async def test_t3_the_rollup_command_stores_the_newest_closed_month_and_exits(
    make_database: MakeDatabase, kafka_settings: KafkaSettings, auth_settings: AuthSettings
) -> None:
    url = await make_database(tier_migrate.MIGRATIONS)
    env = environment(url, kafka_settings, auth_settings, free_port())
    returncode, output = await finish(env, "tier-engine", "rollup")
    assert returncode == 0, output
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            months = (await connection.execute(text("SELECT month FROM rollup"))).scalars().all()
    finally:
        await engine.dispose()
    newest = latest_closed_month(datetime.now(UTC).date())
    assert months == [str(newest)]
    assert f"rollup {newest} revision 1 stored" in output


def test_restarts_back_off_like_a_crash_looping_pod() -> None:
    """Issue 12, point 6: 1 s, doubling, at most 30 s between starts of a process that exits."""
    assert [restart_delay(n) for n in range(7)] == [1, 2, 4, 8, 16, 30, 30]


async def test_make_run_starts_a_killed_worker_again_and_ctrl_c_still_stops_it(
    ledger_env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 12, point 6: the supervision `make run` (keel-devstack) runs, on the real command."""
    metrics_port = free_port()
    env = {**ledger_env, "SERVICE_WORKER_METRICS_PORT": str(metrics_port)}
    stack = Stack(logs=tmp_path)
    worker = stack.spawn("credit-ledger", "worker", env)

    async def serving() -> bool:
        try:
            async with httpx.AsyncClient() as client:
                answer = await client.get(f"http://127.0.0.1:{metrics_port}/metrics")
                return "keel_consumer_messages_total" in answer.text
        except httpx.TransportError:
            return False

    try:
        await eventually(serving, timeout_s=30)
        killed = worker.process
        assert killed is not None
        killed.send_signal(signal.SIGKILL)
        killed.wait()
        stack.supervise(time.monotonic())  # notices the exit, waits out the backoff
        assert worker.restart_at is not None
        assert not worker.running
        stack.supervise(worker.restart_at)  # the backoff is over
        assert worker.process is not killed
        await eventually(serving, timeout_s=30)
        assert worker.running
    finally:
        stack.stop()  # what Ctrl-C runs
    assert worker.process is not None
    assert worker.process.returncode == 0
    console = capsys.readouterr().out
    assert f"credit-ledger-worker exited with {-signal.SIGKILL}" in console
    assert "credit-ledger-worker started again (restart 1)" in console
    assert (
        "worker credit-ledger stopped cleanly"
        in (tmp_path / "credit-ledger-worker.log").read_text()
    )
