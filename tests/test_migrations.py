"""Each service's migrations build exactly the tables its code declares (and keel's)."""

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import create_async_engine

from activity_ingest import migrate as ingest_migrate
from activity_ingest import tables as ingest_tables
from capacity import migrate as capacity_migrate
from capacity import tables as capacity_tables
from credit_ledger import migrate as ledger_migrate
from credit_ledger import tables as ledger_tables
from keel import tables as keel_tables
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
    url = await make_database(migrations)
    engine = create_async_engine(url)

    def differences(connection):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, [metadata, keel_tables.metadata])

    try:
        async with engine.connect() as connection:
            diff = await connection.run_sync(differences)
    finally:
        await engine.dispose()
    assert diff == [], f"{service}: models and migrations differ: {diff}"


def test_every_service_has_its_own_metadata() -> None:
    metadatas: list[MetaData] = [metadata for _, metadata in SERVICES.values()]
    assert len({id(m) for m in metadatas}) == len(metadatas)
    assert all(
        isinstance(path, Path) and (path / "env.py").exists() for path, _ in SERVICES.values()
    )
