"""Creating and dropping databases on a server, given its admin URL (devstack and tests)."""

import re

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def database_url(admin_url: str, name: str) -> str:
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


async def create_database(admin_url: str, name: str, *, template: str | None = None) -> str:
    """Create `name` unless it exists; returns its URL."""
    for identifier in (name, template):
        if identifier is not None and not _NAME.match(identifier):
            raise ValueError(f"not a plain database name: {identifier!r}")
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            exists = await connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            if not exists:
                suffix = f" TEMPLATE {template}" if template else ""
                await connection.execute(text(f'CREATE DATABASE "{name}"{suffix}'))
    finally:
        await engine.dispose()
    return database_url(admin_url, name)


async def drop_database(admin_url: str, name: str) -> None:
    if not _NAME.match(name):
        raise ValueError(f"not a plain database name: {name!r}")
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await engine.dispose()
