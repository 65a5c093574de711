"""A batch validated in one pass gets, item by item, the verdicts of validating each alone."""

from datetime import UTC, datetime, timedelta
from typing import Any

from activity_ingest.domain.validation import Rejection, validate_event, validate_events
from keel.events.catalogue import UPSTREAM_EVENTS
from keel.events.registry import Event
from keel.testing.samples import activity_event

NOW = datetime(2025, 3, 14, 12, tzinfo=UTC)
SKEW = timedelta(minutes=5)


def summary(verdict: Event[Any] | Rejection) -> object:
    if isinstance(verdict, Rejection):
        return verdict
    return (verdict.spec, verdict.key, verdict.envelope.to_json())


def test_a_mixed_batch_gets_the_verdicts_of_each_item_alone() -> None:
    good = activity_event("ok-1", NOW - timedelta(days=1))
    items: list[Any] = [
        good,
        "not an object",
        {**good, "id": "ok-2"},
        {**good, "id": "bad-type", "type": "no.such_type"},
        {**good, "id": "bad-data", "data": {**good["data"], "user_email": "nobody"}},
        {**good, "id": "late", "time": (NOW + timedelta(hours=1)).isoformat()},
        {
            **good,
            "id": "bad-schema",
            "dataschema": "urn:partner-credit:event:activity.performed:v9",
        },
        {key: value for key, value in good.items() if key != "source"},
        {**good, "id": "ok-3"},
    ]
    alone = [validate_event(item, UPSTREAM_EVENTS, now=NOW, max_future_skew=SKEW) for item in items]
    together = validate_events(items, UPSTREAM_EVENTS, now=NOW, max_future_skew=SKEW)
    assert [summary(v) for v in together] == [summary(v) for v in alone]
    assert [isinstance(v, Event) for v in together] == [
        True,
        False,
        True,
        False,
        False,
        False,
        False,
        False,
        True,
    ]


def test_a_valid_batch_is_all_events_in_order() -> None:
    items = [activity_event(f"e-{n}", NOW) for n in range(20)]
    verdicts = validate_events(items, UPSTREAM_EVENTS, now=NOW, max_future_skew=SKEW)
    assert [v.envelope.id for v in verdicts if isinstance(v, Event)] == [
        f"e-{n}" for n in range(20)
    ]
