import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from keel import tables
from keel.settings import AuthSettings, KafkaSettings, Settings
from keel.testing.plugin import MakeDatabase, service_settings


@pytest.fixture
async def database_url(make_database: MakeDatabase) -> str:
    """A fresh database holding keel's own tables (outbox, applied events)."""
    url = await make_database(None)
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(tables.metadata.create_all)
    await engine.dispose()
    return url


@pytest.fixture
def settings(
    database_url: str, kafka_settings: KafkaSettings, auth_settings: AuthSettings
) -> Settings:
    return service_settings(
        Settings, "keel-test", database_url=database_url, kafka=kafka_settings, auth=auth_settings
    )
