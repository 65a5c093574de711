from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from keel.clock import FixedClock
from keel.settings import Settings


@pytest.fixture
def ledger_clock() -> FixedClock:
    return FixedClock(datetime(2024, 1, 1, 9, tzinfo=UTC))


@pytest.fixture
async def ledger_db(ledger_settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(ledger_settings.database.url.get_secret_value())
    yield engine
    await engine.dispose()
