"""Async database access: one engine per process, sessions that never commit on their own.

The service layer owns the transaction (it commits once); repositories may flush, never commit.
Every service gets its own SQLModel registry so that two services' tables never meet in one
metadata, and the same constraint naming convention so integrity errors map by name, not guess.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
from sqlalchemy import MetaData
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import registry

from keel import tracing
from keel.settings import PostgresSettings

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SessionFactory = async_sessionmaker[AsyncSession]
T = TypeVar("T")
logger = logging.getLogger(__name__)

# A connection that cannot be had: refused, reset, or the server starting or stopping.
BROKEN_CONNECTION = (
    OSError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
)


class _BrokenBeforeCommit(Exception):
    """The connection broke before COMMIT was sent: nothing of the transaction remains."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


async def _end_transaction(connection: asyncpg.Connection) -> None:
    """Instead of asyncpg's reset on release (a round trip on every release, undoing advisory
    locks, LISTEN and SET that this code never uses): only a transaction left open, by a
    cancelled request, is rolled back."""
    if connection.is_in_transaction():
        await connection.execute("ROLLBACK")


def _is_broken(connection: asyncpg.Connection) -> bool:
    # The pool detaches a connection the server closed: its proxy then refuses every call.
    try:
        return bool(connection.is_closed())
    except asyncpg.InterfaceError:
        return True


def new_registry() -> registry:
    """A registry (and metadata) of one's own, with the shared naming convention."""
    return registry(metadata=MetaData(naming_convention=NAMING_CONVENTION))


def create_engine(settings: PostgresSettings) -> AsyncEngine:
    return create_async_engine(
        settings.url.get_secret_value(),
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_pre_ping=settings.pool_pre_ping,
        echo=settings.echo,
    )


def create_session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False, autoflush=False)


def driver_dsn(settings: PostgresSettings) -> str:
    """The database URL as asyncpg takes it (SQLAlchemy's `+asyncpg` dialect suffix dropped)."""
    url = make_url(settings.url.get_secret_value())
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class RawDatabase:
    """Plain asyncpg for the hot paths: a pool of its own, no pre-ping round trip, statements
    prepared once per connection (asyncpg's statement cache).

    Instead of pinging before use, a unit of work that meets a broken connection runs once more
    on another connection; a second failure is raised as the driver's error. Only whole
    transactions are retried, so a retry never sees half of the first attempt.
    """

    def __init__(self, settings: PostgresSettings, service: str | None = None) -> None:
        self.settings = settings
        self.service = service  # whose tracer spans the transactions (keel.tracing)
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()

    async def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            async with self._opening:
                if self._pool is None:
                    self._pool = await asyncpg.create_pool(
                        driver_dsn(self.settings),
                        min_size=1,
                        max_size=self.settings.pool_size,
                        reset=_end_transaction,
                    )
        return self._pool

    async def transaction(self, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """Run `work(connection)` in one transaction and commit it.

        If the connection breaks before COMMIT is sent, nothing was committed, so the whole
        transaction runs once more on another connection. A connection that breaks during
        COMMIT leaves the outcome unknown: that error is raised, never retried.
        """
        try:
            return await self._attempt(work)
        except _BrokenBeforeCommit as broken:
            logger.warning("database connection broke (%s); retrying once", broken.__cause__)
        try:
            return await self._attempt(work)
        except _BrokenBeforeCommit as broken:
            raise broken.error from None

    async def _attempt(self, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        try:
            pool = await self.pool()
            connection = await pool.acquire()
        except BROKEN_CONNECTION as error:
            raise _BrokenBeforeCommit(error) from error
        try:
            with tracing.transaction(self.service):
                transaction = connection.transaction()
                try:
                    await transaction.start()
                    result = await work(connection)
                except Exception as error:
                    if _is_broken(connection):
                        raise _BrokenBeforeCommit(error) from error
                    await transaction.rollback()
                    raise
                await transaction.commit()
                return result
        finally:
            await pool.release(connection)

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()
