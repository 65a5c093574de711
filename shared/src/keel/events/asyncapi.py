"""The AsyncAPI 3.0 document of every topic, message, key and header, generated from the event
catalogue (the source of `GET /v1/event-types` too), so the two cannot disagree.

Served by activity-ingest at `GET /v1/asyncapi.json`; `make asyncapi` writes it to
`docs/asyncapi.json` (`python -m keel.events.asyncapi PATH`), and a test keeps that file current.
"""

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from keel.context import TRACEPARENT
from keel.events.catalogue import EVENTS, example_envelope
from keel.events.envelope import STRUCTURED_CONTENT_TYPE, CloudEvent
from keel.events.registry import EventRegistry, EventType
from keel.events.topics import TOPICS, Topic

ASYNCAPI_VERSION = "3.0.0"
KAFKA_BINDING_VERSION = "0.5.0"
SCHEMAS = "#/components/schemas/"

TRACE_HEADER = {
    "type": "string",
    "pattern": "^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
    "description": "W3C trace context of the request that caused the message; consumers continue "
    "the trace (OpenTelemetry spans) and log its trace id.",
}
# What a consumer adds when it dead-letters a message (keel.kafka.consumer.DeadLetter).
DEAD_LETTER_HEADERS = {
    "dlq-reason": "Why the message can never be applied: a reason code (not_a_cloudevent, "
    "unknown_type, schema_violation, handler_error, or the rule's own).",
    "dlq-detail": "The error, at most 1,000 characters.",
    "dlq-consumer": "The consumer (service) that gave up on it.",
    "dlq-topic": "The topic it was read from.",
    "dlq-partition": "The partition it was read from.",
    "dlq-offset": "Its offset there.",
}
# Written only when they apply.
DEAD_LETTER_HEADERS_WHEN = {
    "dlq-exception": "The class of the error that made it poison, when an error did.",
    "dlq-value-omitted": "The size in bytes of the message, when the letter carries it not "
    "(it would exceed the producer's max_request_size); read it at dlq-topic, dlq-partition, "
    "dlq-offset while retention keeps it.",
}


def message_id(spec: EventType[Any]) -> str:
    return f"{spec.name}.v{spec.version}"


def _dead_letter_id(topic: Topic) -> str:
    return f"{topic.name}.dead_letter"


def _hoist(schema: dict[str, Any], into: dict[str, Any]) -> dict[str, Any]:
    """Move a pydantic schema's `$defs` into components.schemas (its refs already point there)."""
    for name, definition in schema.pop("$defs", {}).items():
        if into.setdefault(name, definition) != definition:
            raise ValueError(f"two different schemas are both named {name}")
    return schema


def _message(spec: EventType[Any]) -> dict[str, Any]:
    return {
        "name": spec.name,
        "title": f"{spec.name} v{spec.version}",
        "summary": (spec.payload.__doc__ or spec.name).strip().splitlines()[0],
        "contentType": STRUCTURED_CONTENT_TYPE,
        "headers": {"$ref": f"{SCHEMAS}TraceHeaders"},
        "payload": {
            "allOf": [
                {"$ref": f"{SCHEMAS}CloudEvent"},
                {
                    "type": "object",
                    "required": ["type", "data"],
                    "properties": {
                        "type": {"const": spec.name},
                        "dataschema": {"const": spec.dataschema},
                        "data": {"$ref": f"{SCHEMAS}{spec.payload.__name__}"},
                    },
                },
            ]
        },
        "bindings": {
            "kafka": {
                "key": {
                    "type": "string",
                    "description": f"The payload's `{spec.key}` (the aggregate that orders).",
                },
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
        "examples": [
            {
                "name": f"{spec.name}-example",
                "headers": {TRACEPARENT: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
                "payload": example_envelope(spec),
            }
        ],
    }


def _channel(topic: Topic, messages: Iterable[str], description: str) -> dict[str, Any]:
    return {
        "address": topic.name,
        "description": description,
        "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in messages},
        "bindings": {
            "kafka": {
                "partitions": topic.partitions,
                "topicConfiguration": {"retention.ms": topic.retention_ms},
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }


def asyncapi_document(
    registry: EventRegistry = EVENTS, topics: Iterable[Topic] = TOPICS
) -> dict[str, Any]:
    """The document: a channel per topic and per dead-letter topic, a message per event type."""
    schemas: dict[str, Any] = {
        "TraceHeaders": {
            "type": "object",
            "properties": {TRACEPARENT: TRACE_HEADER},
        },
        "DeadLetterHeaders": {
            "type": "object",
            "required": list(DEAD_LETTER_HEADERS),
            "properties": {
                TRACEPARENT: TRACE_HEADER,
                **{
                    name: {"type": "string", "description": d}
                    for name, d in (DEAD_LETTER_HEADERS | DEAD_LETTER_HEADERS_WHEN).items()
                },
            },
        },
    }
    schemas["CloudEvent"] = _hoist(
        CloudEvent.model_json_schema(ref_template=SCHEMAS + "{model}"), schemas
    )
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for topic in topics:
        specs = [spec for spec in registry if spec.topic == topic.name]
        for spec in specs:
            schemas[spec.payload.__name__] = _hoist(
                spec.payload.model_json_schema(mode="validation", ref_template=SCHEMAS + "{model}"),
                schemas,
            )
            messages[message_id(spec)] = _message(spec)
        dlq = topic.dead_letter
        messages[_dead_letter_id(topic)] = {
            "name": "dead_letter",
            "title": f"A message from {topic.name} that a consumer can never apply",
            "summary": "The original key, value and headers as received; why, in dlq-* headers.",
            "headers": {"$ref": f"{SCHEMAS}DeadLetterHeaders"},
            "bindings": {
                "kafka": {
                    "key": {"type": "string", "description": f"The original key ({topic.key})."},
                    "bindingVersion": KAFKA_BINDING_VERSION,
                }
            },
        }
        channels[topic.name] = _channel(
            topic,
            [message_id(spec) for spec in specs],
            f"Keyed by {topic.key}; CloudEvents 1.0 in JSON structured mode. Consumers apply each "
            "event id once, in key order per partition.",
        )
        channels[dlq.name] = _channel(
            dlq,
            [_dead_letter_id(topic)],
            f"Messages from {topic.name} that a consumer can never apply, with the reason.",
        )
        for channel, verb in ((topic.name, "Publish"), (dlq.name, "Dead-letter")):
            operations[f"send.{channel}"] = {
                "action": "send",
                "title": f"{verb} to {channel}",
                "channel": {"$ref": f"#/channels/{channel}"},
                "messages": [
                    {"$ref": f"#/channels/{channel}/messages/{name}"}
                    for name in channels[channel]["messages"]
                ],
            }
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "partner-credit events",
            "version": "1",
            "description": "Every topic, message, key and header of partner-credit. Generated "
            "from the event catalogue (keel.events.catalogue), the source of GET /v1/event-types.",
        },
        "defaultContentType": STRUCTURED_CONTENT_TYPE,
        "channels": channels,
        "operations": operations,
        "components": {"schemas": schemas, "messages": messages},
    }


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def main() -> None:
    """Write the document to the path given (`make asyncapi`: docs/asyncapi.json)."""
    Path(sys.argv[1]).write_text(render(asyncapi_document()), encoding="utf-8")


if __name__ == "__main__":
    main()
