"""`capacity <command>`: the one entry point of the capacity image."""

from keel.entrypoints import dispatch

COMMANDS = {
    "api": "capacity.main:run",
    "worker": "capacity.worker:run",
    "migrate": "capacity.migrate:run",
    "await-schema": "capacity.migrate:await_schema",
}


def run() -> None:
    dispatch("capacity", COMMANDS)
