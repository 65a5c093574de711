"""The registry of event types: each a typed, versioned payload model bound to its topic and key.

Within a version only additive changes are allowed; a breaking change registers a new version,
selected by the envelope's `dataschema` (absent: the newest version of the type).
"""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Annotated, Any, Generic, Literal, NotRequired, TypedDict, TypeVar, Union, Unpack

from pydantic import BaseModel, Discriminator, Tag, TypeAdapter, ValidationError, create_model

from keel.errors import FieldError, field_path
from keel.events.envelope import CloudEvent
from keel.kafka.publisher import Message

P = TypeVar("P", bound=BaseModel)

SCHEMA_URN = "urn:partner-credit:event"


class Stamp(TypedDict):
    """What tells one event from another of its type: its id, who says it and when, and the
    aggregate it is about (CloudEvents `subject`)."""

    id: str
    source: str
    time: datetime
    subject: NotRequired[str | None]


class EventRejected(Exception):
    """An envelope whose type, version or payload this registry cannot accept."""

    def __init__(self, reason: str, errors: Iterable[FieldError]) -> None:
        self.reason = reason
        self.errors = tuple(errors)
        super().__init__("; ".join(f"{e.field}: {e.reason}" for e in self.errors))


@dataclass(frozen=True, slots=True)
class EventType(Generic[P]):
    name: str
    version: int
    payload: type[P]
    topic: str
    key: str  # the payload field whose value is the Kafka key (the aggregate that orders)
    example: P

    def __post_init__(self) -> None:
        if self.key not in self.payload.model_fields:
            raise ValueError(f"{self.name}: key {self.key!r} is not a field of its payload")

    @property
    def dataschema(self) -> str:
        return f"{SCHEMA_URN}:{self.name}:v{self.version}"

    def json_schema(self) -> dict[str, Any]:
        return self.payload.model_json_schema(mode="validation")

    def envelope_model(self) -> type[CloudEvent]:
        """The envelope of this type and version with `data` typed by its payload model: the
        same model the catalogue's JSON Schema is made from, so both judge alike."""
        model: type[CloudEvent] = create_model(
            f"{self.payload.__name__}Envelope",
            __base__=CloudEvent,
            type=(Literal[self.name], ...),  # type: ignore[arg-type]
            data=(self.payload, ...),
        )
        return model


@dataclass(frozen=True, slots=True)
class Event(Generic[P]):
    """An envelope whose payload has been validated against its registered model."""

    envelope: CloudEvent
    payload: P
    spec: EventType[P]

    @property
    def key(self) -> str:
        return str(getattr(self.payload, self.spec.key))

    @property
    def topic(self) -> str:
        return self.spec.topic

    @property
    def time(self) -> datetime:
        return self.envelope.time

    def message(self) -> Message:
        """The Kafka message that carries this event: its topic, its key, the envelope as JSON."""
        return Message(self.topic, self.key, self.envelope.to_json())


class EventRegistry:
    def __init__(self, types: Iterable[EventType[Any]]) -> None:
        self._types: dict[str, dict[int, EventType[Any]]] = {}
        for spec in types:
            versions = self._types.setdefault(spec.name, {})
            if spec.version in versions:
                raise ValueError(f"{spec.name} v{spec.version} registered twice")
            versions[spec.version] = spec

    def __iter__(self) -> Iterator[EventType[Any]]:
        for versions in self._types.values():
            yield from versions.values()

    @property
    def topics(self) -> frozenset[str]:
        return frozenset(spec.topic for spec in self)

    @cached_property
    def _batch(self) -> tuple[TypeAdapter[list[Any]], dict[type[CloudEvent], EventType[Any]]]:
        """A validator of a whole list of envelopes in one pass (pydantic-core, no Python per
        item): a union of every type's envelope model, chosen by `type` and `dataschema` (absent:
        the newest version), as `resolve` chooses."""
        tags: dict[tuple[Any, Any], str] = {}
        members: list[Any] = []
        specs: dict[type[CloudEvent], EventType[Any]] = {}
        for name, versions in self._types.items():
            for spec in versions.values():
                tag = spec.dataschema
                tags[name, spec.dataschema] = tag
                model = spec.envelope_model()
                specs[model] = spec
                members.append(Annotated[model, Tag(tag)])
            tags[name, None] = versions[max(versions)].dataschema

        def choose(item: Any) -> str | None:
            if not isinstance(item, dict):
                return None
            return tags.get((item.get("type"), item.get("dataschema")))

        union = Annotated[Union[tuple(members)], Discriminator(choose)]  # type: ignore[valid-type]  # noqa: UP007
        return TypeAdapter(list[union]), specs  # type: ignore[valid-type]

    def parse_all(self, items: Sequence[Any]) -> list[Event[Any]]:
        """Every item as an event, validated in one pass; raises ValidationError (each error's
        `loc` starting with the item's index) if any item is not a valid event of this registry.
        `parse` then says, item by item, why."""
        adapter, specs = self._batch
        return [
            Event(envelope, envelope.data, specs[type(envelope)])
            for envelope in adapter.validate_python(items)
        ]

    def resolve(self, envelope: CloudEvent) -> EventType[Any]:
        versions = self._types.get(envelope.type)
        if not versions:
            raise EventRejected(
                "unknown_type", [FieldError("type", f"unknown event type {envelope.type!r}")]
            )
        if envelope.dataschema is None:
            return versions[max(versions)]
        for spec in versions.values():
            if spec.dataschema == envelope.dataschema:
                return spec
        known = ", ".join(spec.dataschema for spec in versions.values())
        raise EventRejected(
            "unknown_version",
            [FieldError("dataschema", f"unknown schema for {envelope.type}; known: {known}")],
        )

    def parse(self, envelope: CloudEvent) -> Event[Any]:
        spec = self.resolve(envelope)
        try:
            payload = spec.payload.model_validate(envelope.data)
        except ValidationError as error:
            raise EventRejected(
                "schema_violation",
                [
                    FieldError(field_path(("data", *detail["loc"])), detail["msg"])
                    for detail in error.errors()
                ],
            ) from error
        return Event(envelope, payload, spec)

    def envelope(self, type_name: str, payload: BaseModel, **stamp: Unpack[Stamp]) -> CloudEvent:
        """A new envelope of the newest version of `type_name` around `payload`."""
        versions = self._types.get(type_name)
        if not versions:
            raise KeyError(f"{type_name} is not a registered event type")
        spec = versions[max(versions)]
        if not isinstance(payload, spec.payload):
            expected, got = spec.payload.__name__, type(payload).__name__
            raise TypeError(f"{type_name} carries {expected}, not {got}")
        return CloudEvent(
            specversion="1.0",
            type=spec.name,
            dataschema=spec.dataschema,
            data=payload.model_dump(mode="json", exclude_none=True),
            **stamp,
        )

    def message(self, type_name: str, payload: BaseModel, **stamp: Unpack[Stamp]) -> Message:
        """An outgoing event as its Kafka message, checked as any consumer will parse it."""
        return self.parse(self.envelope(type_name, payload, **stamp)).message()
