from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from credit_ledger.config import SERVICE_NAME
from credit_ledger.migrate import MIGRATIONS
from keel.clock import FixedClock
from keel.settings import AuthSettings, KafkaSettings, Settings
from keel.testing.plugin import MakeDatabase, service_settings


@pytest.fixture
def ledger_clock() -> FixedClock:
    return FixedClock(datetime(2024, 1, 1, 9, tzinfo=UTC))


@pytest.fixture
async def ledger_settings(
    make_database: MakeDatabase, kafka_settings: KafkaSettings, auth_settings: AuthSettings
) -> Settings:
    return service_settings(
        Settings,
        SERVICE_NAME,
        database_url=await make_database(MIGRATIONS),
        kafka=kafka_settings,
        auth=auth_settings,
    )


@pytest.fixture
async def ledger_db(ledger_settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(ledger_settings.database.url.get_secret_value())
    yield engine
    await engine.dispose()
