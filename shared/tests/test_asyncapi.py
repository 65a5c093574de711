"""The AsyncAPI document: current in docs/, valid AsyncAPI 3.0, and complete against the
catalogue, the topics and the headers the code actually writes."""

import hashlib
import json
from pathlib import Path

from jsonschema import Draft7Validator

from keel.context import TRACEPARENT
from keel.events.asyncapi import (
    DEAD_LETTER_HEADERS,
    DEAD_LETTER_HEADERS_WHEN,
    asyncapi_document,
    message_id,
    render,
)
from keel.events.catalogue import EVENTS
from keel.events.topics import TOPICS
from keel.kafka.consumer import DeadLetter

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = Path(__file__).parent / "asyncapi" / "asyncapi-3.0.0.schema.json"
SCHEMA_SHA256 = "abe96881dbfaad495ccbb6bd8d3fb43ca18a13b9d7564849ccb66f39d5e5b20f"


def test_docs_asyncapi_json_is_the_generated_document() -> None:
    written = (ROOT / "docs" / "asyncapi.json").read_text(encoding="utf-8")
    assert written == render(asyncapi_document()), "run `make asyncapi` and commit the result"


def test_the_document_validates_against_the_asyncapi_3_schema() -> None:
    raw = SCHEMA.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == SCHEMA_SHA256
    validator = Draft7Validator(json.loads(raw))
    document = json.loads((ROOT / "docs" / "asyncapi.json").read_text(encoding="utf-8"))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
    assert errors == []
    assert document["asyncapi"] == "3.0.0"


def test_the_schema_check_catches_a_broken_document() -> None:
    validator = Draft7Validator(json.loads(SCHEMA.read_bytes()))
    document = asyncapi_document()
    document["channels"]["activity.events.v1"]["bindings"]["kafka"]["partitions"] = 0
    document["operations"]["send.tier.events.v1"]["action"] = "publish"  # AsyncAPI 2 wording
    assert len(list(validator.iter_errors(document))) >= 2


def test_every_topic_and_its_dead_letter_topic_is_a_channel_with_its_event_types() -> None:
    document = asyncapi_document()
    for topic in TOPICS:
        channel = document["channels"][topic.name]
        assert channel["bindings"]["kafka"]["partitions"] == topic.partitions
        assert set(channel["messages"]) == {
            message_id(spec) for spec in EVENTS if spec.topic == topic.name
        }
        assert topic.dead_letter.name in document["channels"]
    assert {message_id(spec) for spec in EVENTS} <= set(document["components"]["messages"])


def test_each_message_names_its_key_and_points_at_its_payload_schema() -> None:
    document = asyncapi_document()
    schemas = document["components"]["schemas"]
    for spec in EVENTS:
        message = document["components"]["messages"][message_id(spec)]
        assert spec.key in message["bindings"]["kafka"]["key"]["description"]
        data_ref = message["payload"]["allOf"][1]["properties"]["data"]["$ref"]
        assert data_ref.removeprefix("#/components/schemas/") in schemas
    every_ref = [part.split('"')[0] for part in json.dumps(document).split('"$ref": "')[1:]]
    for ref in every_ref:  # no dangling reference, no leftover pydantic `#/$defs/`
        node = document
        for step in ref.removeprefix("#/").split("/"):
            node = node[step]


def test_the_documented_headers_are_the_ones_a_dead_letter_carries() -> None:
    class Record:
        topic, partition, offset, key, value = "tier.events.v1", 2, 41, b"p-1", b"{}"
        headers = ((TRACEPARENT, b"00-" + b"1" * 32 + b"-" + b"2" * 16 + b"-01"),)

    plain = DeadLetter(Record(), "unknown_type", "x").message("c", max_bytes=1024 * 1024)
    every = DeadLetter(Record(), "handler_error", "x", "builtins.KeyError").message("c", 600)
    documented = asyncapi_document()["components"]["schemas"]["DeadLetterHeaders"]
    assert {name for name, _ in plain.headers} == set(documented["required"]) | {TRACEPARENT}
    assert (
        {name for name, _ in every.headers}
        == set(documented["properties"])
        == {
            TRACEPARENT,
            *DEAD_LETTER_HEADERS,
            *DEAD_LETTER_HEADERS_WHEN,
        }
    )
