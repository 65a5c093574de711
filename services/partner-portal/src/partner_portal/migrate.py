from pathlib import Path

from keel.migrations import await_schema_command, migrate_command

MIGRATIONS = Path(__file__).parent / "migrations"


def run() -> None:
    migrate_command(MIGRATIONS)


def await_schema() -> None:
    await_schema_command(MIGRATIONS)
