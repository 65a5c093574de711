from collections.abc import AsyncIterator

import httpx
import pytest

from activity_ingest.config import IngestServiceSettings
from activity_ingest.main import create_app
from keel.clock import FixedClock
from keel.testing.running import app_client


@pytest.fixture
async def ingest(
    ingest_settings: IngestServiceSettings, clock: FixedClock
) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(create_app(ingest_settings, clock)) as client:
        yield client
