"""Where the test servers come from, in order: the environment, Docker, the embedded pair.

- `TEST_DATABASE_URL` (an admin URL, asyncpg dialect) and `TEST_KAFKA_BOOTSTRAP_SERVERS`
  (with `TEST_KAFKA_IDEMPOTENCE=true` for an Apache Kafka cluster) name servers to use;
- else, when a Docker engine answers, testcontainers starts PostgreSQL and Apache Kafka (KRaft);
- else the embedded PostgreSQL and Tansu start once per test session.
"""

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

POSTGRES_IMAGE = "postgres:17-alpine"
KAFKA_IMAGE = "apache/kafka:3.9.1"


@dataclass(frozen=True, slots=True)
class KafkaServer:
    bootstrap_servers: str
    idempotence: bool


def docker_available() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
    except Exception:
        return False
    return True


@contextmanager
def postgres_server() -> Iterator[str]:
    if url := os.environ.get("TEST_DATABASE_URL"):
        yield url
    elif docker_available():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer(POSTGRES_IMAGE, driver="asyncpg") as container:
            yield container.get_connection_url()
    else:
        from keel.embedded.ports import free_port
        from keel.embedded.postgres import EmbeddedPostgres

        with tempfile.TemporaryDirectory(prefix="keel-pg-") as directory:
            server = EmbeddedPostgres(Path(directory) / "data", free_port(), fast_unsafe=True)
            try:
                yield server.start()
            finally:
                server.stop()


@contextmanager
def kafka_server() -> Iterator[KafkaServer]:
    if servers := os.environ.get("TEST_KAFKA_BOOTSTRAP_SERVERS"):
        yield KafkaServer(servers, os.environ.get("TEST_KAFKA_IDEMPOTENCE", "").lower() == "true")
    elif docker_available():
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer(KAFKA_IMAGE).with_kraft() as container:
            yield KafkaServer(container.get_bootstrap_server(), idempotence=True)
    else:
        from keel.embedded.ports import free_port
        from keel.embedded.tansu import EmbeddedTansu

        broker = EmbeddedTansu(free_port())
        try:
            yield KafkaServer(broker.start(), idempotence=False)
        finally:
            broker.stop()
