"""`credit-ledger <command>`: the one entry point of the credit-ledger image."""

from keel.entrypoints import dispatch, service_commands

COMMANDS = service_commands("credit_ledger")


def run() -> None:
    dispatch("credit-ledger", COMMANDS)
