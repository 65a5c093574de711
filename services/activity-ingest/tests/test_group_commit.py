"""Group commit: concurrent requests share one statement and one commit, and each request is
told exactly what it logged; a group that fails leaves nothing and fails every request in it."""

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from activity_ingest import repository
from activity_ingest.config import IngestServiceSettings
from activity_ingest.group_commit import GroupCommit
from activity_ingest.repository import LogRow
from keel.db import RawDatabase


def row(event_id: str) -> LogRow:
    return LogRow(
        source="test",
        event_id=event_id,
        type="activity.performed",
        topic="activity.events.v1",
        key="c-1",
        event_time=datetime(2025, 3, 14, tzinfo=UTC),
        envelope=json.dumps({"id": event_id}),
        headers="[]",
    )


async def count(database: RawDatabase, table: str) -> int:
    async def read(connection: asyncpg.Connection) -> int:
        return int(await connection.fetchval(f"SELECT count(*) FROM {table}"))  # noqa: S608

    return await database.transaction(read)


@pytest.fixture
async def database(ingest_settings: IngestServiceSettings) -> Any:
    database = RawDatabase(ingest_settings.database)
    yield database
    await database.close()


async def test_concurrent_requests_share_statements_and_each_gets_its_own_events(
    database: RawDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    statements: list[int] = []
    real = repository.log_and_queue

    async def counted(connection: asyncpg.Connection, rows: list[LogRow]) -> set[Any]:
        statements.append(len(rows))
        return await real(connection, rows)

    monkeypatch.setattr(repository, "log_and_queue", counted)
    log = GroupCommit(database)
    answers = await asyncio.gather(*(log.log_and_queue([row(f"e-{n}")]) for n in range(50)))

    assert answers == [{("test", f"e-{n}")} for n in range(50)]
    assert len(statements) < 50
    assert sum(statements) == 50
    assert await count(database, "outbox_message") == 50


async def test_two_requests_in_one_group_carrying_one_event_log_it_for_the_first(
    database: RawDatabase,
) -> None:
    log = GroupCommit(database)
    first, second = await asyncio.gather(
        log.log_and_queue([row("same"), row("a")]), log.log_and_queue([row("same"), row("b")])
    )
    assert first == {("test", "same"), ("test", "a")}
    assert second == {("test", "b")}
    assert await count(database, "ingested_event") == 3
    assert await count(database, "outbox_message") == 3


async def test_a_group_that_fails_before_its_commit_fails_every_request_and_leaves_nothing(
    database: RawDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = repository.log_and_queue

    async def write_then_crash(connection: asyncpg.Connection, rows: list[LogRow]) -> set[Any]:
        await real(connection, rows)
        raise RuntimeError("injected fault before the commit")

    monkeypatch.setattr(repository, "log_and_queue", write_then_crash)
    log = GroupCommit(database)
    answers = await asyncio.gather(
        *(log.log_and_queue([row(f"e-{n}")]) for n in range(5)), return_exceptions=True
    )
    assert all(isinstance(answer, RuntimeError) for answer in answers)
    assert await count(database, "ingested_event") == 0
    assert await count(database, "outbox_message") == 0
