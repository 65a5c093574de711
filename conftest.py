"""Fixtures every test directory shares: each service's settings on a fresh database."""

import pytest
from portal_support import IN_PROCESS

from activity_ingest.config import SERVICE_NAME as INGEST
from activity_ingest.config import IngestServiceSettings
from activity_ingest.migrate import MIGRATIONS as INGEST_MIGRATIONS
from capacity.config import SERVICE_NAME as CAPACITY
from capacity.migrate import MIGRATIONS as CAPACITY_MIGRATIONS
from credit_ledger.config import SERVICE_NAME as LEDGER
from credit_ledger.migrate import MIGRATIONS as LEDGER_MIGRATIONS
from keel.settings import Settings
from keel.testing.plugin import MakeServiceSettings
from partner_portal.config import SERVICE_NAME as PORTAL
from partner_portal.config import PortalServiceSettings
from partner_portal.migrate import MIGRATIONS as PORTAL_MIGRATIONS
from tier_engine.config import SERVICE_NAME as TIER
from tier_engine.migrate import MIGRATIONS as TIER_MIGRATIONS


@pytest.fixture
async def ingest_settings(make_service_settings: MakeServiceSettings) -> IngestServiceSettings:
    return await make_service_settings(IngestServiceSettings, INGEST, INGEST_MIGRATIONS)


@pytest.fixture
async def ledger_settings(make_service_settings: MakeServiceSettings) -> Settings:
    return await make_service_settings(Settings, LEDGER, LEDGER_MIGRATIONS)


@pytest.fixture
async def tier_settings(make_service_settings: MakeServiceSettings) -> Settings:
    return await make_service_settings(Settings, TIER, TIER_MIGRATIONS)


@pytest.fixture
async def capacity_settings(make_service_settings: MakeServiceSettings) -> Settings:
    return await make_service_settings(Settings, CAPACITY, CAPACITY_MIGRATIONS)


@pytest.fixture
async def portal_settings(make_service_settings: MakeServiceSettings) -> PortalServiceSettings:
    settings = await make_service_settings(PortalServiceSettings, PORTAL, PORTAL_MIGRATIONS)
    return settings.model_copy(update={"portal": IN_PROCESS})
