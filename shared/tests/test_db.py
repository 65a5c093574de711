"""The hot paths' raw asyncpg access: no pre-ping; a transaction whose connection broke before
COMMIT runs once more, and a database still unreachable surfaces as the driver's error."""

import asyncpg
import pytest
from pydantic import SecretStr

from keel.db import RawDatabase, driver_dsn
from keel.settings import PostgresSettings


async def test_a_transaction_whose_connection_broke_runs_once_more(database_url: str) -> None:
    settings = PostgresSettings(url=SecretStr(database_url), pool_size=2)
    database = RawDatabase(settings)
    admin = await asyncpg.connect(driver_dsn(settings))
    attempts: list[int] = []

    async def work(connection: asyncpg.Connection) -> int:
        attempts.append(connection.get_server_pid())
        if len(attempts) == 1:  # the server ends this connection under our feet
            await admin.execute(
                "SELECT pg_terminate_backend($1, 5000)", connection.get_server_pid()
            )
        return int(await connection.fetchval("SELECT 41 + 1"))

    try:
        result = await database.transaction(work)
    finally:
        await admin.close()
        await database.close()
    assert result == 42
    assert len(attempts) == 2
    assert attempts[0] != attempts[1]


async def test_a_database_still_unreachable_after_the_retry_raises_the_driver_error() -> None:
    database = RawDatabase(
        PostgresSettings(url=SecretStr("postgresql+asyncpg://u:p@127.0.0.1:1/none"))
    )
    attempts: list[int] = []

    async def work(connection: asyncpg.Connection) -> None:
        attempts.append(1)

    with pytest.raises(ConnectionRefusedError):
        await database.transaction(work)
    assert attempts == []


async def test_an_error_of_the_work_itself_is_not_retried(database_url: str) -> None:
    database = RawDatabase(PostgresSettings(url=SecretStr(database_url)))
    attempts: list[int] = []

    async def work(connection: asyncpg.Connection) -> None:
        attempts.append(1)
        await connection.execute("SELECT 1 / 0")

    try:
        with pytest.raises(asyncpg.DivisionByZeroError):
            await database.transaction(work)
    finally:
        await database.close()
    assert attempts == [1]
