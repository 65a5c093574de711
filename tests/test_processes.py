"""The real commands, as ops run them: an api and a worker process start, serve, and stop
cleanly on SIGTERM."""

import asyncio
import os
import signal
import sys
from pathlib import Path

import httpx

from credit_ledger.migrate import MIGRATIONS
from keel.embedded.ports import free_port
from keel.settings import AuthSettings, KafkaSettings
from keel.testing.plugin import MakeDatabase
from keel.testing.running import eventually

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


async def start(command: str, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        BIN / command, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )


async def stop(process: asyncio.subprocess.Process) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    output, _ = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode is not None
    return process.returncode, output.decode()


async def test_the_api_process_becomes_ready_and_stops_cleanly_on_sigterm(
    make_database: MakeDatabase, kafka_settings: KafkaSettings, auth_settings: AuthSettings
) -> None:
    port = free_port()
    env = environment(await make_database(MIGRATIONS), kafka_settings, auth_settings, port)
    process = await start("credit-ledger-api", env)
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
    make_database: MakeDatabase, kafka_settings: KafkaSettings, auth_settings: AuthSettings
) -> None:
    env = environment(await make_database(MIGRATIONS), kafka_settings, auth_settings, free_port())
    metrics_port = free_port()
    env["SERVICE_WORKER_METRICS_PORT"] = str(metrics_port)
    process = await start("credit-ledger-worker", env)
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
