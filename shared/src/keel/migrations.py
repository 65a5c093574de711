"""Alembic, shared: the body of every service's `migrations/env.py`, upgrade-to-head, and the
schema steps keel owns (its outbox and applied-event tables) for the services' revisions.

Each service migrates its own metadata together with keel's (outbox, applied events).
"""

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from alembic import command, context, op
from alembic.autogenerate.api import AutogenContext
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel.sql.sqltypes import AutoString

from keel import tables
from keel.logs import configure_logging
from keel.settings import PostgresSettings

URL_ATTRIBUTE = "database_url"
AWAIT_SCHEMA_TIMEOUT_S = 120
AWAIT_SCHEMA_INTERVAL_S = 2.0

logger = logging.getLogger(__name__)


def run_env(service_metadata: MetaData) -> None:
    """Run the migration environment Alembic is loading (call it from env.py)."""
    config = context.config
    url = config.attributes.get(URL_ATTRIBUTE) or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError(
            "no database URL: set DATABASE_URL or pass it to keel.migrations.upgrade"
        )
    target: Sequence[MetaData] = [service_metadata, tables.metadata]
    options: dict[str, Any] = {
        "target_metadata": target,
        "compare_type": True,
        "render_item": render_item,
    }
    if context.is_offline_mode():
        context.configure(url=url, literal_binds=True, **options)
        with context.begin_transaction():
            context.run_migrations()
        return

    def migrate(connection: Connection) -> None:
        context.configure(connection=connection, **options)
        with context.begin_transaction():
            context.run_migrations()

    async def online() -> None:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as connection:
                await connection.run_sync(migrate)
                await connection.commit()
        finally:
            await engine.dispose()

    asyncio.run(online())


def render_item(kind: str, item: Any, autogen: AutogenContext) -> str | Literal[False]:
    """Autogenerate writes sqlmodel's AutoString as `sa.String`: both are VARCHAR, and the
    revision then needs no sqlmodel import."""
    if kind == "type" and isinstance(item, AutoString):
        return f"sa.String({item.length or ''})"
    return False


def alembic_config(migrations_dir: Path, url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.attributes[URL_ATTRIBUTE] = url
    return config


def upgrade(migrations_dir: Path, url: str, revision: str = "head") -> None:
    """Blocking (Alembic runs its own event loop): call it from a thread inside async code."""
    command.upgrade(alembic_config(migrations_dir, url), revision)


async def schema_at_head(migrations_dir: Path, url: str) -> bool:
    """Whether the database carries exactly the head revisions of these migrations."""
    heads = set(ScriptDirectory.from_config(alembic_config(migrations_dir, url)).get_heads())
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            current = await connection.run_sync(
                lambda sync: set(MigrationContext.configure(sync).get_current_heads())
            )
    finally:
        await engine.dispose()
    return current == heads


def migrate_command(migrations_dir: Path) -> None:
    """The `<service> migrate` command: upgrade the database named by DATABASE_URL to head."""
    configure_logging("migrate")
    upgrade(migrations_dir, PostgresSettings().url.get_secret_value())


def await_schema_command(migrations_dir: Path) -> None:
    """The `<service> await-schema` command, an init container: wait while the migration job
    brings the database to head; exit 1 after AWAIT_SCHEMA_TIMEOUT_S so Kubernetes retries."""
    configure_logging("await-schema")
    url = PostgresSettings().url.get_secret_value()

    async def wait() -> bool:
        deadline = asyncio.get_running_loop().time() + AWAIT_SCHEMA_TIMEOUT_S
        while True:
            try:
                if await schema_at_head(migrations_dir, url):
                    return True
                logger.info("database not at head yet; waiting for the migration job")
            except (OSError, SQLAlchemyError) as error:
                logger.info("database not reachable yet: %s", error)
            if asyncio.get_running_loop().time() >= deadline:
                return False
            await asyncio.sleep(AWAIT_SCHEMA_INTERVAL_S)

    if not asyncio.run(wait()):
        logger.error("database still not at head after %d s", AWAIT_SCHEMA_TIMEOUT_S)
        raise SystemExit(1)


def timestamp_default_now(name: str) -> sa.Column[datetime]:
    """A not-null `timestamptz` column the database fills with the transaction's `now()`.

    Released revisions use it: like a Step, it never changes (a different column is a new
    helper), or replaying old revisions would build a different schema."""
    return sa.Column(
        name, sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


@dataclass(frozen=True)
class Step:
    """A schema change keel owns, the same in every service: the service's revision file
    names it once, `upgrade, downgrade = STEP.upgrade, STEP.downgrade`.

    Frozen once released: a later change to keel's tables comes as a new step and a new
    revision in every service.
    """

    forward: Callable[[], None]
    back: Callable[[], None]

    # Methods, not fields: Alembic logs a revision by its function's name ("Running upgrade
    # 0002 -> 0003"), which a bound method keeps.
    def upgrade(self) -> None:
        self.forward()

    def downgrade(self) -> None:
        self.back()


def _create_messaging_tables_v1() -> None:
    op.create_table(
        "applied_event",
        sa.Column("consumer", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("event_id", sa.String(), nullable=False),
        sa.Column("event_type", sa.String(), nullable=False),
        sa.Column("topic", sa.String(), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        timestamp_default_now("applied_at"),
        sa.PrimaryKeyConstraint("consumer", "source", "event_id", name=op.f("pk_applied_event")),
    )
    op.create_table(
        "outbox_message",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("topic", sa.String(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column("headers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        timestamp_default_now("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_message")),
    )
    _create_outbox_notify_v1()


def _drop_messaging_tables_v1() -> None:
    op.drop_table("outbox_message")
    op.drop_table("applied_event")
    op.execute("DROP FUNCTION IF EXISTS keel_outbox_notify()")


def _create_outbox_notify_v1() -> None:
    """v1 woke the relay by NOTIFY at every commit that queued messages (dropped in v2)."""
    op.execute(
        """
        CREATE FUNCTION keel_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('keel_outbox', '');
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER outbox_message_notify AFTER INSERT ON outbox_message "
        "FOR EACH STATEMENT EXECUTE FUNCTION keel_outbox_notify()"
    )


def _drop_outbox_notify_v1() -> None:
    op.execute("DROP TRIGGER outbox_message_notify ON outbox_message")
    op.execute("DROP FUNCTION keel_outbox_notify()")


MESSAGING_TABLES_V1 = Step(_create_messaging_tables_v1, _drop_messaging_tables_v1)
"""keel's tables as of v1 (outbox, applied events), in a service's first revision."""

OUTBOX_WITHOUT_NOTIFY = Step(_drop_outbox_notify_v1, _create_outbox_notify_v1)
"""keel v2: commits no longer NOTIFY the outbox relay, which polls adaptively instead.

A NOTIFY takes a database-wide lock from COMMIT until the commit is durable, so every
transaction that queued a message committed one at a time.
"""
