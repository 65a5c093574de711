from collections.abc import AsyncIterator

import pytest
from portal_support import Settings5, System, system, world_settled

from activity_ingest.config import IngestServiceSettings
from keel.settings import Settings
from keel.testing.plugin import MakeToken
from partner_portal.config import PortalServiceSettings


@pytest.fixture
def every_settings(
    ingest_settings: IngestServiceSettings,
    ledger_settings: Settings,
    tier_settings: Settings,
    capacity_settings: Settings,
    portal_settings: PortalServiceSettings,
) -> Settings5:
    return Settings5(
        ingest_settings, ledger_settings, tier_settings, capacity_settings, portal_settings
    )


@pytest.fixture
async def world(every_settings: Settings5, make_token: MakeToken) -> AsyncIterator[System]:
    """The system running with the world posted and caught up."""
    async with system(every_settings, make_token) as running:
        await world_settled(running)
        yield running
