"""`capacity <command>`: the one entry point of the capacity image."""

from keel.entrypoints import dispatch, service_commands

COMMANDS = service_commands("capacity")


def run() -> None:
    dispatch("capacity", COMMANDS)
