"""Activity family, topic `activity.events.v1`, keyed by client id."""

from typing import Annotated

from pydantic import StringConstraints

from keel.events.payloads.common import Email, Identifier, Payload, Slug


class ActivityPerformedV1(Payload):
    """A user did something in a client account. Whether it qualifies is M3, decided downstream."""

    user_id: Identifier
    user_email: Email
    client_id: Identifier
    tool: Slug
    action: Annotated[
        str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$", max_length=128)
    ]
    asset_id: Identifier | None = None
