"""Each service's migrations build exactly the tables its code declares (and keel's), and each
revision's downgrade restores the schema before it."""

import asyncio
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata, render_python_code
from alembic.migration import MigrationContext
from alembic.operations.ops import CreateTableOp, UpgradeOps
from alembic.script import ScriptDirectory
from sqlalchemy import Column, MetaData, Table, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel.sql.sqltypes import AutoString

from activity_ingest import migrate as ingest_migrate
from activity_ingest import tables as ingest_tables
from capacity import migrate as capacity_migrate
from capacity import tables as capacity_tables
from credit_ledger import migrate as ledger_migrate
from credit_ledger import tables as ledger_tables
from keel import tables as keel_tables
from keel.migrations import alembic_config, render_item
from keel.testing.plugin import MakeDatabase
from partner_portal import migrate as portal_migrate
from partner_portal import tables as portal_tables
from tier_engine import migrate as tier_migrate
from tier_engine import tables as tier_tables

SERVICES = {
    "activity-ingest": (ingest_migrate.MIGRATIONS, ingest_tables.metadata),
    "credit-ledger": (ledger_migrate.MIGRATIONS, ledger_tables.metadata),
    "tier-engine": (tier_migrate.MIGRATIONS, tier_tables.metadata),
    "capacity": (capacity_migrate.MIGRATIONS, capacity_tables.metadata),
    "partner-portal": (portal_migrate.MIGRATIONS, portal_tables.metadata),
}


@pytest.mark.parametrize("service", SERVICES)
async def test_migrations_match_the_declared_tables(
    service: str, make_database: MakeDatabase
) -> None:
    migrations, metadata = SERVICES[service]
    diff = await differences_from_models(await make_database(migrations), metadata)
    assert diff == [], f"{service}: models and migrations differ: {diff}"


async def differences_from_models(url: str, metadata: MetaData) -> list[Any]:
    def differences(connection):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return compare_metadata(context, [metadata, keel_tables.metadata])

    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(differences)  # type: ignore[no-any-return]
    finally:
        await engine.dispose()


def test_every_service_has_its_own_metadata() -> None:
    metadatas: list[MetaData] = [metadata for _, metadata in SERVICES.values()]
    assert len({id(m) for m in metadatas}) == len(metadatas)
    assert all(
        isinstance(path, Path) and (path / "env.py").exists() for path, _ in SERVICES.values()
    )


@pytest.mark.parametrize("service", SERVICES)
async def test_no_commit_notifies_the_outbox_relay(
    service: str, make_database: MakeDatabase
) -> None:
    """A NOTIFY at commit serialises every writing transaction; the relay polls instead."""
    url = await make_database(SERVICES[service][0])
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            triggers = await connection.scalar(
                text(
                    "SELECT count(*) FROM pg_trigger "
                    "WHERE tgrelid = 'outbox_message'::regclass AND NOT tgisinternal"
                )
            )
    finally:
        await engine.dispose()
    assert triggers == 0


# What a revision can change, read from the catalogue (Alembic's own version table left out).
SCHEMA_QUERIES = {
    "columns": "SELECT table_name, column_name, data_type, character_maximum_length,"
    " is_nullable, column_default, is_identity, identity_generation"
    " FROM information_schema.columns"
    " WHERE table_schema = 'public' AND table_name <> 'alembic_version' ORDER BY 1, 2",
    "constraints": "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)"
    " FROM pg_constraint WHERE connamespace = 'public'::regnamespace"
    " AND conrelid::regclass::text <> 'alembic_version' ORDER BY 1, 2",
    "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes"
    " WHERE schemaname = 'public' AND tablename <> 'alembic_version' ORDER BY 1, 2",
    "triggers": "SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid) FROM pg_trigger"
    " WHERE NOT tgisinternal ORDER BY 1, 2",
    "functions": "SELECT proname, pg_get_functiondef(oid) FROM pg_proc"
    " WHERE pronamespace = 'public'::regnamespace ORDER BY 1",
}


async def schema_of(url: str) -> dict[str, list[tuple[Any, ...]]]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return {
                name: [tuple(row) for row in await connection.execute(text(query))]
                for name, query in SCHEMA_QUERIES.items()
            }
    finally:
        await engine.dispose()


@pytest.mark.parametrize("service", SERVICES)
async def test_each_downgrade_restores_the_schema_before_its_revision(
    service: str, make_database: MakeDatabase
) -> None:
    """Up one revision at a time, then down one at a time: each downgrade leaves the schema
    its revision started from, down to an empty database; up again reaches the models."""
    migrations, metadata = SERVICES[service]
    url = await make_database(None)
    config = alembic_config(migrations, url)
    scripts = ScriptDirectory.from_config(config)
    revisions = ["base", *reversed([script.revision for script in scripts.walk_revisions()])]

    schemas = [await schema_of(url)]
    for revision in revisions[1:]:
        await asyncio.to_thread(command.upgrade, config, revision)
        schemas.append(await schema_of(url))
    for index in range(len(revisions) - 1, 0, -1):
        await asyncio.to_thread(command.downgrade, config, revisions[index - 1])
        assert await schema_of(url) == schemas[index - 1], (
            f"{service}: downgrading {revisions[index]} did not restore {revisions[index - 1]}"
        )
    await asyncio.to_thread(command.upgrade, config, "head")

    assert not any(schemas[0].values())
    assert await schema_of(url) == schemas[-1]
    assert await differences_from_models(url, metadata) == []


def test_autogenerate_writes_sqlmodel_strings_as_plain_sa_strings() -> None:
    """New revisions need no sqlmodel import: AutoString is a VARCHAR, as sa.String is."""
    table = Table(
        "t",
        MetaData(),
        Column("name", AutoString(), nullable=False),
        Column("code", AutoString(3)),
    )
    code = render_python_code(
        UpgradeOps(ops=[CreateTableOp.from_table(table)]), render_item=render_item
    )
    assert "sa.Column('name', sa.String(), nullable=False)" in code
    assert "sa.Column('code', sa.String(3), nullable=True)" in code
    assert "sqlmodel" not in code
