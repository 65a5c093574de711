from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from tier_story import TierStory

from keel.clock import FixedClock
from keel.settings import Settings


@pytest.fixture
def tier_clock() -> FixedClock:
    return FixedClock(datetime(2025, 4, 1, 9, tzinfo=UTC))


@pytest.fixture
async def story(tier_settings: Settings, tier_clock: FixedClock) -> AsyncIterator[TierStory]:
    found = TierStory(tier_settings, tier_clock)
    yield found
    await found.close()
