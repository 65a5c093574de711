"""Alembic, shared: the body of every service's `migrations/env.py`, and upgrade-to-head.

Each service migrates its own metadata together with keel's (outbox, applied events).
"""

import asyncio
from collections.abc import Sequence
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from keel import tables
from keel.logs import configure_logging
from keel.settings import PostgresSettings

URL_ATTRIBUTE = "database_url"


def run_env(service_metadata: MetaData) -> None:
    """Run the migration environment Alembic is loading (call it from env.py)."""
    config = context.config
    url = config.attributes.get(URL_ATTRIBUTE) or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError(
            "no database URL: set DATABASE_URL or pass it to keel.migrations.upgrade"
        )
    target: Sequence[MetaData] = [service_metadata, tables.metadata]
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target, literal_binds=True, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
        return

    def migrate(connection: Connection) -> None:
        context.configure(connection=connection, target_metadata=target, compare_type=True)
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


def alembic_config(migrations_dir: Path, url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.attributes[URL_ATTRIBUTE] = url
    return config


def upgrade(migrations_dir: Path, url: str, revision: str = "head") -> None:
    """Blocking (Alembic runs its own event loop): call it from a thread inside async code."""
    command.upgrade(alembic_config(migrations_dir, url), revision)


def migrate_command(migrations_dir: Path) -> None:
    """The `<service>-migrate` command: upgrade the database named by DATABASE_URL to head."""
    configure_logging("migrate")
    upgrade(migrations_dir, PostgresSettings().url.get_secret_value())


def create_messaging_tables_v1() -> None:
    """keel's tables as of v1 (outbox, applied events), for a service's first migration.

    Frozen: a later change to keel's tables comes with a new function and a new migration.
    """
    import sqlalchemy as sa
    from alembic import op
    from sqlalchemy.dialects import postgresql

    op.create_table(
        "applied_event",
        sa.Column("consumer", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("event_id", sa.String(), nullable=False),
        sa.Column("event_type", sa.String(), nullable=False),
        sa.Column("topic", sa.String(), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column(
            "applied_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("consumer", "source", "event_id", name=op.f("pk_applied_event")),
    )
    op.create_table(
        "outbox_message",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("topic", sa.String(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column("headers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_message")),
    )

    for statement in tables.OUTBOX_NOTIFY_DDL:
        op.execute(statement)


def drop_messaging_tables_v1() -> None:
    from alembic import op

    op.execute("DROP TRIGGER outbox_message_notify ON outbox_message")
    op.execute("DROP FUNCTION keel_outbox_notify()")
    op.drop_table("outbox_message")
    op.drop_table("applied_event")
