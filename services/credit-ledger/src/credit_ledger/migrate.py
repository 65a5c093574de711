from pathlib import Path

from keel.migrations import migrate_command

MIGRATIONS = Path(__file__).parent / "migrations"


def run() -> None:
    migrate_command(MIGRATIONS)
