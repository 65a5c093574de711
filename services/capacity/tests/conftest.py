from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from capacity_support import Stage

from capacity.main import create_app
from keel.auth import Scope
from keel.clock import FixedClock
from keel.runtime import Runtime
from keel.settings import Settings
from keel.testing.plugin import MakeToken
from keel.testing.running import app_client, bearer


@pytest.fixture
def capacity_clock() -> FixedClock:
    return FixedClock(datetime(2026, 3, 2, 10, tzinfo=UTC))


@pytest.fixture
async def capacity_runtime(
    capacity_settings: Settings, capacity_clock: FixedClock
) -> AsyncIterator[Runtime]:
    """For arranging facts and reading tables beside the app."""
    runtime = Runtime.create(capacity_settings, capacity_clock)
    yield runtime
    await runtime.close()


@pytest.fixture
async def capacity_api(
    capacity_settings: Settings, capacity_clock: FixedClock
) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(create_app(capacity_settings, capacity_clock)) as api:
        yield api


@pytest.fixture
def stage(
    capacity_settings: Settings,
    capacity_api: httpx.AsyncClient,
    capacity_clock: FixedClock,
    capacity_runtime: Runtime,
    make_token: MakeToken,
) -> Stage:
    return Stage(
        capacity_settings,
        capacity_api,
        capacity_clock,
        capacity_runtime,
        admin=bearer(make_token(Scope.ADMIN)),
    )
