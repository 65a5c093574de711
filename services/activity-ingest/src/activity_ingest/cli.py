"""`activity-ingest <command>`: the one entry point of the activity-ingest image."""

from keel.entrypoints import dispatch, service_commands

COMMANDS = service_commands("activity_ingest")


def run() -> None:
    dispatch("activity-ingest", COMMANDS)
