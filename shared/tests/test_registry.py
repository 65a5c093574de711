from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from keel.events.catalogue import EVENTS
from keel.events.envelope import CloudEvent
from keel.events.payloads.activity import ActivityPerformedV1
from keel.events.registry import EventRejected
from keel.testing.samples import activity_event


def _envelope(**overrides: Any) -> dict[str, Any]:
    return activity_event("evt-1", "2025-03-14T09:30:00Z") | overrides


def test_a_valid_envelope_parses_into_its_typed_payload() -> None:
    event = EVENTS.parse(CloudEvent.model_validate(_envelope()))
    assert isinstance(event.payload, ActivityPerformedV1)
    assert event.key == "c-1"
    assert event.topic == "activity.events.v1"
    assert event.time == datetime(2025, 3, 14, 9, 30, tzinfo=UTC)


def test_an_unknown_type_is_rejected_naming_the_type_field() -> None:
    with pytest.raises(EventRejected) as rejected:
        EVENTS.parse(CloudEvent.model_validate(_envelope(type="activity.exploded")))
    assert rejected.value.reason == "unknown_type"
    assert [e.field for e in rejected.value.errors] == ["type"]


def test_a_payload_violation_names_the_field_inside_data() -> None:
    body = activity_event(
        "evt-1", "2025-03-14T09:30:00Z", user_email="not-an-email", client_id=None
    )
    with pytest.raises(EventRejected) as rejected:
        EVENTS.parse(CloudEvent.model_validate(body))
    assert rejected.value.reason == "schema_violation"
    assert {e.field for e in rejected.value.errors} == {"data.user_email", "data.client_id"}


def test_an_unknown_dataschema_version_is_rejected() -> None:
    with pytest.raises(EventRejected) as rejected:
        EVENTS.parse(CloudEvent.model_validate(_envelope(dataschema="urn:x:activity.performed:v9")))
    assert rejected.value.reason == "unknown_version"


def test_the_registered_dataschema_selects_the_version() -> None:
    spec = EVENTS.resolve(CloudEvent.model_validate(_envelope()))
    assert spec.dataschema == "urn:partner-credit:event:activity.performed:v1"
    explicit = _envelope(dataschema=spec.dataschema)
    assert EVENTS.parse(CloudEvent.model_validate(explicit)).spec is spec


def test_envelope_requires_an_offset_on_time() -> None:
    with pytest.raises(ValidationError) as error:
        CloudEvent.model_validate(_envelope(time="2025-03-14T09:30:00"))
    assert error.value.errors()[0]["loc"] == ("time",)


def test_encode_then_decode_gives_the_same_event() -> None:
    example = next(spec for spec in EVENTS if spec.name == "activity.performed").example
    envelope = EVENTS.envelope(
        "activity.performed",
        example,
        id="e-9",
        source="test",
        time=datetime(2025, 1, 2, tzinfo=UTC),
    )
    decoded = EVENTS.parse(CloudEvent.from_json(envelope.to_json()))
    assert decoded.payload == example
    assert decoded.envelope == envelope


def test_extension_attributes_are_kept() -> None:
    envelope = CloudEvent.model_validate(_envelope(partnerregion="emea"))
    assert CloudEvent.from_json(envelope.to_json()).model_extra == {"partnerregion": "emea"}
