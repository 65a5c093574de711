from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from activity_ingest.config import IngestServiceSettings
from activity_ingest.main import create_app
from keel.auth import Scope
from keel.clock import FixedClock
from keel.testing.plugin import MakeToken
from keel.testing.running import app_client, bearer


@pytest.fixture
async def ingest(
    ingest_settings: IngestServiceSettings, clock: FixedClock
) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(create_app(ingest_settings, clock)) as client:
        yield client


@pytest.fixture
def producer(make_token: MakeToken) -> dict[str, str]:
    """The headers of a producer allowed to submit events."""
    return bearer(make_token(Scope.EVENTS_WRITE))


@pytest.fixture
def submit(
    ingest: httpx.AsyncClient, producer: dict[str, str]
) -> Callable[..., Awaitable[httpx.Response]]:
    """POST /v1/events as a producer: `json`, or raw `content` bytes; `content_type` overrides
    the one httpx sets."""

    async def post(
        json: Any = None, *, content: bytes | None = None, content_type: str | None = None
    ) -> httpx.Response:
        headers = producer if content_type is None else {**producer, "content-type": content_type}
        return await ingest.post("/v1/events", json=json, content=content, headers=headers)

    return post


@pytest.fixture
def count_rows(ingest_settings: IngestServiceSettings) -> Callable[[str], Awaitable[int]]:
    """`SELECT count(*) FROM <rows>` on the ingest's database, over a connection of its own (not
    the app's): `rows` is a table, optionally with a WHERE clause."""

    async def count(rows: str) -> int:
        engine = create_async_engine(ingest_settings.database.url.get_secret_value())
        try:
            async with engine.connect() as connection:
                return int(await connection.scalar(text(f"SELECT count(*) FROM {rows}")) or 0)  # noqa: S608
        finally:
            await engine.dispose()

    return count
