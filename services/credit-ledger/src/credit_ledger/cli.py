"""`credit-ledger <command>`: the one entry point of the credit-ledger image."""

from keel.entrypoints import dispatch

COMMANDS = {
    "api": "credit_ledger.main:run",
    "worker": "credit_ledger.worker:run",
    "migrate": "credit_ledger.migrate:run",
    "await-schema": "credit_ledger.migrate:await_schema",
}


def run() -> None:
    dispatch("credit-ledger", COMMANDS)
