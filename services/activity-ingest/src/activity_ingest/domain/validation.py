"""Whether one submitted item is an acceptable event: pure, with the time passed in."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from keel.errors import FieldError, field_path
from keel.events.envelope import CloudEvent
from keel.events.registry import Event, EventRegistry, EventRejected


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why an item was refused: a reason code (for metrics) and each field at fault."""

    reason: str
    errors: tuple[FieldError, ...]


def validate_event(
    item: Any, registry: EventRegistry, *, now: datetime, max_future_skew: timedelta
) -> Event[Any] | Rejection:
    """The typed event, or every reason it is refused, each naming its field.

    Events far in the past are accepted (backfill); event time decides downstream.
    """
    if not isinstance(item, dict):
        return Rejection(
            "not_an_object",
            (FieldError("event", "must be a JSON object (a structured-mode CloudEvent)"),),
        )
    try:
        envelope = CloudEvent.model_validate(item)
    except ValidationError as error:
        return Rejection(
            "invalid_envelope",
            tuple(FieldError(field_path(d["loc"]), d["msg"]) for d in error.errors()),
        )
    try:
        event = registry.parse(envelope)
    except EventRejected as rejected:
        return Rejection(rejected.reason, rejected.errors)
    if envelope.time > now + max_future_skew:
        seconds = int(max_future_skew.total_seconds())
        return Rejection(
            "future_time", (FieldError("time", f"is more than {seconds} seconds in the future"),)
        )
    return event
