"""Whether one submitted item is an acceptable event: pure, with the time passed in."""

from collections.abc import Sequence
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


def validate_events(
    items: Sequence[Any], registry: EventRegistry, *, now: datetime, max_future_skew: timedelta
) -> list[Event[Any] | Rejection]:
    """Each item's verdict, in order, as `validate_event` gives it.

    The items are validated in one pass against the registry's envelope models. If some are
    refused, those are judged one by one for their exact errors, and the rest in one pass again.
    """
    verdicts: list[Event[Any] | Rejection]
    try:
        verdicts = list(registry.parse_all(items))
    except ValidationError as error:
        refused = {detail["loc"][0] for detail in error.errors()}
        passed = [index for index in range(len(items)) if index not in refused]
        events = iter(registry.parse_all([items[index] for index in passed]))
        verdicts = [
            validate_event(item, registry, now=now, max_future_skew=max_future_skew)
            if index in refused
            else next(events)
            for index, item in enumerate(items)
        ]
    latest = now + max_future_skew
    return [
        _too_far_ahead(max_future_skew)
        if isinstance(verdict, Event) and verdict.time > latest
        else verdict
        for verdict in verdicts
    ]


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
        return _too_far_ahead(max_future_skew)
    return event


def _too_far_ahead(max_future_skew: timedelta) -> Rejection:
    seconds = int(max_future_skew.total_seconds())
    return Rejection(
        "future_time", (FieldError("time", f"is more than {seconds} seconds in the future"),)
    )
