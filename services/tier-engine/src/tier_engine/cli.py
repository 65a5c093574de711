"""`tier-engine <command>`: the one entry point of the tier-engine image."""

from keel.entrypoints import dispatch

COMMANDS = {
    "api": "tier_engine.main:run",
    "worker": "tier_engine.worker:run",
    "migrate": "tier_engine.migrate:run",
    "await-schema": "tier_engine.migrate:await_schema",
    "rollup": "tier_engine.worker:rollup",
}


def run() -> None:
    dispatch("tier-engine", COMMANDS)
