from pathlib import Path

from keel.entrypoints import migrate

MIGRATIONS = Path(__file__).parent / "migrations"


def run() -> None:
    migrate(MIGRATIONS)
