"""Fixtures every test directory shares: each service's settings on a fresh database."""

import pytest

from activity_ingest.config import SERVICE_NAME as INGEST
from activity_ingest.config import IngestServiceSettings, IngestSettings
from activity_ingest.migrate import MIGRATIONS as INGEST_MIGRATIONS
from capacity.config import SERVICE_NAME as CAPACITY
from capacity.migrate import MIGRATIONS as CAPACITY_MIGRATIONS
from credit_ledger.config import SERVICE_NAME as LEDGER
from credit_ledger.migrate import MIGRATIONS as LEDGER_MIGRATIONS
from keel.settings import AuthSettings, KafkaSettings, Settings
from keel.testing.plugin import MakeDatabase, service_settings
from tier_engine.config import SERVICE_NAME as TIER
from tier_engine.migrate import MIGRATIONS as TIER_MIGRATIONS


@pytest.fixture
async def ingest_settings(
    make_database: MakeDatabase, kafka_settings: KafkaSettings, auth_settings: AuthSettings
) -> IngestServiceSettings:
    return service_settings(
        IngestServiceSettings,
        INGEST,
        database_url=await make_database(INGEST_MIGRATIONS),
        kafka=kafka_settings,
        auth=auth_settings,
        ingest=IngestSettings(),
    )


@pytest.fixture
async def ledger_settings(
    make_database: MakeDatabase, kafka_settings: KafkaSettings, auth_settings: AuthSettings
) -> Settings:
    return service_settings(
        Settings,
        LEDGER,
        database_url=await make_database(LEDGER_MIGRATIONS),
        kafka=kafka_settings,
        auth=auth_settings,
    )


@pytest.fixture
async def tier_settings(
    make_database: MakeDatabase, kafka_settings: KafkaSettings, auth_settings: AuthSettings
) -> Settings:
    return service_settings(
        Settings,
        TIER,
        database_url=await make_database(TIER_MIGRATIONS),
        kafka=kafka_settings,
        auth=auth_settings,
    )


@pytest.fixture
async def capacity_settings(
    make_database: MakeDatabase, kafka_settings: KafkaSettings, auth_settings: AuthSettings
) -> Settings:
    return service_settings(
        Settings,
        CAPACITY,
        database_url=await make_database(CAPACITY_MIGRATIONS),
        kafka=kafka_settings,
        auth=auth_settings,
    )
