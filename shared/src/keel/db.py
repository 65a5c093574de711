"""Async database access: one engine per process, sessions that never commit on their own.

The service layer owns the transaction (it commits once); repositories may flush, never commit.
Every service gets its own SQLModel registry so that two services' tables never meet in one
metadata, and the same constraint naming convention so integrity errors map by name, not guess.
"""

from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import registry

from keel.settings import PostgresSettings

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SessionFactory = async_sessionmaker[AsyncSession]


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
