"""`activity-ingest <command>`: the one entry point of the activity-ingest image."""

from keel.entrypoints import dispatch

COMMANDS = {
    "api": "activity_ingest.main:run",
    "worker": "activity_ingest.worker:run",
    "migrate": "activity_ingest.migrate:run",
    "await-schema": "activity_ingest.migrate:await_schema",
}


def run() -> None:
    dispatch("activity-ingest", COMMANDS)
