"""Whether one submitted item is an acceptable event: pure, with the time passed in."""

from datetime import datetime, timedelta
from typing import Any

from keel.errors import FieldError, field_path
from keel.events.envelope import CloudEvent
from keel.events.registry import Event, EventRegistry, EventRejected
from pydantic import ValidationError


def validate_event(
    item: Any, registry: EventRegistry, *, now: datetime, max_future_skew: timedelta
) -> Event[Any] | list[FieldError]:
    """The typed event, or every reason it is refused, each naming its field."""
    if not isinstance(item, dict):
        return [FieldError("event", "must be a JSON object (a structured-mode CloudEvent)")]
    try:
        envelope = CloudEvent.model_validate(item)
    except ValidationError as error:
        return [FieldError(field_path(d["loc"]), d["msg"]) for d in error.errors()]
    try:
        event = registry.parse(envelope)
    except EventRejected as rejected:
        return list(rejected.errors)
    if envelope.time > now + max_future_skew:
        return [
            FieldError(
                "time",
                f"is more than {int(max_future_skew.total_seconds())} seconds in the future",
            )
        ]
    return event
