"""pytest plugin (loaded with `-p keel.testing.plugin`): real servers, each test isolated.

Each test gets its own databases (cloned from a template migrated once per session) and its own
topics and consumer groups (a unique prefix), so tests never share state.
"""

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import SecretStr

from keel import tracing
from keel.auth import Scope, issue_token
from keel.clock import FixedClock, SystemClock
from keel.dbadmin import create_database, drop_database
from keel.events.topics import all_topics
from keel.kafka.admin import delete_topics, ensure_topics
from keel.migrations import upgrade
from keel.settings import AuthSettings, KafkaSettings, PostgresSettings, ServiceSettings, Settings
from keel.testing.servers import KafkaServer, kafka_server, postgres_server

S = TypeVar("S", bound=Settings)

TEST_SECRET = "test-only-secret-" + "x" * 32
TEST_PARTITIONS = 2


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[KafkaServer]:
    with kafka_server() as server:
        yield server


class _Templates:
    """One migrated template database per migrations folder, made on first use."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self._names: dict[Path, str] = {}
        self._lock = asyncio.Lock()

    async def name_for(self, migrations: Path) -> str:
        async with self._lock:
            if migrations not in self._names:
                name = f"tmpl_{migrations.parent.name}_{secrets.token_hex(3)}"
                url = await create_database(self.admin_url, name)
                await asyncio.to_thread(upgrade, migrations, url)
                self._names[migrations] = name
            return self._names[migrations]


@pytest.fixture(scope="session")
def _database_templates(postgres_admin_url: str) -> _Templates:
    return _Templates(postgres_admin_url)


MakeDatabase = Callable[[Path | None], Awaitable[str]]


@pytest.fixture
async def make_database(
    postgres_admin_url: str, _database_templates: _Templates
) -> AsyncIterator[MakeDatabase]:
    """`await make_database(migrations_dir)` -> the URL of a fresh database, migrated (or empty)."""
    created: list[str] = []

    async def make(migrations: Path | None) -> str:
        template = await _database_templates.name_for(migrations) if migrations else None
        name = f"t_{secrets.token_hex(6)}"
        created.append(name)
        return await create_database(postgres_admin_url, name, template=template)

    yield make
    for name in created:
        await drop_database(postgres_admin_url, name)


@pytest.fixture
async def kafka_settings(kafka_broker: KafkaServer) -> AsyncIterator[KafkaSettings]:
    """Kafka settings with this test's own topic prefix, its topics created; fast group joins."""
    settings = KafkaSettings(
        bootstrap_servers=kafka_broker.bootstrap_servers,
        enable_idempotence=kafka_broker.idempotence,
        topic_prefix=f"t{secrets.token_hex(4)}.",
        session_timeout_ms=2000,
        heartbeat_interval_ms=500,
        consumer_poll_timeout_ms=100,
        linger_ms=1,
    )
    await ensure_topics(settings, all_topics(), partitions=TEST_PARTITIONS)
    yield settings
    await delete_topics(settings, all_topics())


@pytest.fixture
def auth_settings() -> AuthSettings:
    return AuthSettings(jwt_secret=SecretStr(TEST_SECRET))


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def span_exporter() -> Iterator[InMemorySpanExporter]:
    """Tracing on for the test (keel.tracing), every finished span kept in memory by the
    OpenTelemetry SDK's own exporter; apps and runtimes must be created inside the test."""
    exporter = InMemorySpanExporter()
    tracing.use(SimpleSpanProcessor(exporter))
    yield exporter
    tracing.use(None)


MakeToken = Callable[..., str]


@pytest.fixture
def make_token(auth_settings: AuthSettings) -> MakeToken:
    """`make_token(Scope.ADMIN)` or `make_token(Scope.PARTNER_READ, partner_id="p-1")`."""

    def make(*scopes: Scope, partner_id: str | None = None, subject: str = "test") -> str:
        return issue_token(
            auth_settings,
            subject=subject,
            scopes=scopes,
            partner_id=partner_id,
            now=SystemClock().now(),
            ttl=timedelta(hours=1),
        )

    return make


def service_settings(
    cls: type[S],
    name: str,
    *,
    database_url: str,
    kafka: KafkaSettings,
    auth: AuthSettings,
    **blocks: Any,
) -> S:
    """Settings for a service under test; blocks not given come from their defaults."""
    return cls.from_env(
        service=ServiceSettings(name=name, environment="test"),
        database=PostgresSettings(url=SecretStr(database_url), pool_size=5),
        kafka=kafka,
        auth=auth,
        **blocks,
    )


class MakeServiceSettings(Protocol):
    async def __call__(self, cls: type[S], name: str, migrations: Path) -> S: ...


@pytest.fixture
def make_service_settings(
    make_database: MakeDatabase, kafka_settings: KafkaSettings, auth_settings: AuthSettings
) -> MakeServiceSettings:
    """`await make_service_settings(cls, name, migrations)`: a service's settings on a fresh
    database migrated with `migrations`, this test's topics and auth."""

    async def make(cls: type[S], name: str, migrations: Path) -> S:
        return service_settings(
            cls,
            name,
            database_url=await make_database(migrations),
            kafka=kafka_settings,
            auth=auth_settings,
        )

    return make
