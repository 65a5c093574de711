"""`partner-portal <command>`: the one entry point of the partner-portal image."""

from keel.entrypoints import dispatch, service_commands

COMMANDS = service_commands("partner_portal")


def run() -> None:
    dispatch("partner-portal", COMMANDS)
