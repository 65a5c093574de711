"""`tier-engine <command>`: the one entry point of the tier-engine image."""

from keel.entrypoints import dispatch, service_commands

COMMANDS = service_commands("tier_engine", rollup="worker:rollup")


def run() -> None:
    dispatch("tier-engine", COMMANDS)
