"""The event catalogue: every type the system speaks, with its payload model, topic and key."""

from datetime import UTC, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, StringConstraints

from keel.events import topics
from keel.events.registry import EventRegistry, EventType

Identifier = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@-]*$")
]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ActivityPerformedV1(Payload):
    """A partner user did something in a client account; whether it qualifies is M3, downstream."""

    user_id: Identifier
    user_email: EmailStr
    client_id: Identifier
    tool: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
    action: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")]
    asset_id: Identifier | None = None


EXAMPLE_TIME = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)

EVENTS = EventRegistry(
    [
        EventType(
            name="activity.performed",
            version=1,
            payload=ActivityPerformedV1,
            topic=topics.ACTIVITY.name,
            key=lambda p: p.client_id,
            example=ActivityPerformedV1(
                user_id="u-1001",
                user_email="ana@agency.example",
                client_id="c-2001",
                tool="blog",
                action="blog.post_published",
                asset_id="post-77",
            ),
        ),
    ]
)
