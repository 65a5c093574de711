from collections.abc import AsyncIterator

import httpx
import pytest

from activity_ingest.config import SERVICE_NAME, IngestServiceSettings, IngestSettings
from activity_ingest.main import create_app
from activity_ingest.migrate import MIGRATIONS
from keel.clock import FixedClock
from keel.settings import AuthSettings, KafkaSettings
from keel.testing.plugin import MakeDatabase, service_settings
from keel.testing.running import app_client


@pytest.fixture
async def ingest_settings(
    make_database: MakeDatabase, kafka_settings: KafkaSettings, auth_settings: AuthSettings
) -> IngestServiceSettings:
    return service_settings(
        IngestServiceSettings,
        SERVICE_NAME,
        database_url=await make_database(MIGRATIONS),
        kafka=kafka_settings,
        auth=auth_settings,
        ingest=IngestSettings(),
    )


@pytest.fixture
async def ingest(
    ingest_settings: IngestServiceSettings, clock: FixedClock
) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(create_app(ingest_settings, clock)) as client:
        yield client
