"""OpenTelemetry tracing: one accepted event is one trace, from the ingest request through every
outbox publish and every consumer that applies it, joined by the `traceparent` Kafka header.

Off unless `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set: then
spans go over OTLP (HTTP/protobuf) with the exporter's standard `OTEL_EXPORTER_OTLP_*` settings,
sampled by `OTEL_TRACES_SAMPLER`, and the resource takes `OTEL_SERVICE_NAME` and
`OTEL_RESOURCE_ATTRIBUTES` over the service's own name. Off, nothing is instrumented and the
hooks below return at their first line.

Each service gets its own tracer provider (its `service.name`), all feeding one span processor,
so that tests running several services in one process see whose span is whose. The FastAPI,
SQLAlchemy and httpx instrumentations are OpenTelemetry's own; Kafka spans are ours: the
aiokafka instrumentation would start the producer span in the relay's context, while the parent
must be the context stored with the outbox row by the transaction that caused the message.
"""

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.resources import SERVICE_NAME, OTELResourceDetector, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Link, SpanKind, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from sqlalchemy.ext.asyncio import AsyncEngine

from keel import context

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
# Health probes and scrapes every few seconds would drown the traces that matter.
EXCLUDED_URLS = "healthz,readyz,metrics"

Headers = Sequence[tuple[str, bytes]]

_processor: SpanProcessor | None = None
_providers: dict[str, TracerProvider] = {}
# The service whose work this task does (a worker sets it for its loops): whose tracer to use.
_service: ContextVar[str | None] = ContextVar("keel_tracing_service", default=None)
_propagator = TraceContextTextMapPropagator()


class Record(Protocol):
    topic: str
    partition: int
    offset: int
    key: bytes | None
    headers: Headers


def configure_from_environment(service: str) -> None:
    """At process start: export over OTLP when an endpoint is configured; otherwise stay off.
    The process's outgoing httpx requests are traced as `service`'s."""
    if _processor is None and any(os.environ.get(name) for name in ENDPOINT_VARIABLES):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        use(BatchSpanProcessor(OTLPSpanExporter()))
        HTTPXClientInstrumentor().instrument(tracer_provider=_provider(service))


def use(processor: SpanProcessor | None) -> None:
    """Send every service's spans to `processor` from now on (None: tracing off). Apps and
    engines are instrumented when created, so call this before creating them."""
    global _processor
    _processor = processor
    _providers.clear()


def resource(service: str) -> Resource:
    """`service.name` is the service's own unless OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES
    say otherwise (as OpenTelemetry documents them: the environment wins)."""
    return Resource.create({SERVICE_NAME: service}).merge(OTELResourceDetector().detect())


def _provider(service: str | None) -> TracerProvider | None:
    if _processor is None or service is None:
        return None
    if service not in _providers:
        provider = TracerProvider(resource=resource(service))
        provider.add_span_processor(_processor)
        _providers[service] = provider
    return _providers[service]


def tracer(service: str | None = None) -> Tracer | None:
    """The tracer of `service` (default: the one this task works for); None when tracing is off."""
    provider = _provider(service or _service.get())
    return None if provider is None else provider.get_tracer("keel")


@contextmanager
def serving(service: str) -> Iterator[None]:
    """Tasks started inside work for `service` (they copy the context when created)."""
    token = _service.set(service)
    try:
        yield
    finally:
        _service.reset(token)


def instrument_app(app: FastAPI, service: str) -> None:
    provider = _provider(service)
    if provider is not None:
        FastAPIInstrumentor.instrument_app(
            app,
            tracer_provider=provider,
            meter_provider=NoOpMeterProvider(),
            excluded_urls=EXCLUDED_URLS,
        )


def instrument_engine(engine: AsyncEngine, service: str) -> None:
    """SQL statement spans for one engine (OpenTelemetry's SQLAlchemy instrumentation, bound to
    this engine and service instead of patching every engine of the process)."""
    provider = _provider(service)
    if provider is not None:
        connections = NoOpMeterProvider().get_meter("keel").create_up_down_counter("unused")
        EngineTracer(provider.get_tracer("keel.db"), engine.sync_engine, connections)  # type: ignore[no-untyped-call]


def _parent(headers: Headers | None) -> Context | None:
    """The context a message's `traceparent` header carries, if any."""
    carrier = {name: value.decode("latin-1") for name, value in headers or ()}
    if context.TRACEPARENT not in carrier:
        return None
    return _propagator.extract(carrier)


def _messaging(topic: str, operation: str, key: str | bytes | None) -> dict[str, Any]:
    """The standard messaging attributes (OpenTelemetry semantic conventions for Kafka)."""
    attributes: dict[str, Any] = {
        "messaging.system": "kafka",
        "messaging.operation.type": operation,
        "messaging.operation.name": operation,
        "messaging.destination.name": topic,
    }
    if key:
        attributes["messaging.kafka.message.key"] = (
            key.decode(errors="replace") if isinstance(key, bytes) else key
        )
    return attributes


class Outgoing(Protocol):
    @property
    def key(self) -> str: ...

    @property
    def headers(self) -> Headers: ...


@contextmanager
def sending(messages: Sequence[Outgoing], physical: Sequence[str]) -> Iterator[list[Headers]]:
    """A producer span per message, child of the context it carries (the transaction that
    caused it) or of the current one; yields each message's headers with `traceparent` now
    naming its span. The spans end when the block does (after the broker's acknowledgements)."""
    active = tracer()
    if active is None:
        yield [message.headers for message in messages]
        return
    spans = [
        active.start_span(
            f"send {topic}",
            context=_parent(message.headers),
            kind=SpanKind.PRODUCER,
            attributes=_messaging(topic, "send", message.key),
        )
        for message, topic in zip(messages, physical, strict=True)
    ]
    headers: list[Headers] = []
    for message, span in zip(messages, spans, strict=True):
        carrier: dict[str, str] = {}
        _propagator.inject(carrier, trace.set_span_in_context(span))
        kept = [(n, v) for n, v in message.headers or () if n != context.TRACEPARENT]
        headers.append([*kept, *((n, v.encode()) for n, v in carrier.items())])
    try:
        yield headers
    except BaseException as error:
        for span in spans:
            span.record_exception(error)
            span.set_status(trace.StatusCode.ERROR, str(error))
        raise
    finally:
        for span in spans:
            span.end()


@contextmanager
def processing(consumer: str, record: Record, event_id: str) -> Iterator[None]:
    """A consumer's work on one message: a span, child of the message's producer span, current
    while the handler runs (so what it writes to the outbox continues the trace). Off, the
    message's `traceparent` still becomes the context of the handler's log lines."""
    active = tracer(consumer)
    if active is None:
        with context.bind(context.from_kafka_headers(record.headers)):
            yield
        return
    attributes = _messaging(record.topic, "process", record.key)
    attributes |= {
        "messaging.consumer.group.name": consumer,
        "messaging.destination.partition.id": str(record.partition),
        "messaging.kafka.offset": record.offset,
        "messaging.message.id": event_id,
    }
    with active.start_as_current_span(
        f"process {record.topic}",
        context=_parent(record.headers),
        kind=SpanKind.CONSUMER,
        attributes=attributes,
    ):
        yield


@contextmanager
def batch(consumer: str, records: Sequence[Record]) -> Iterator[None]:
    """A consumer's per-batch work (its `after_batch` hook): one span, in the trace of the
    batch's first message and linked to every message's producer span."""
    active = tracer(consumer)
    if active is None or not records:
        yield
        return
    parents = [_parent(record.headers) for record in records]
    contexts = [trace.get_current_span(p).get_span_context() for p in parents if p is not None]
    with active.start_as_current_span(
        f"process {consumer} batch",
        context=parents[0],
        kind=SpanKind.CONSUMER,
        links=[Link(span_context) for span_context in contexts],
        attributes={
            "messaging.system": "kafka",
            "messaging.operation.type": "process",
            "messaging.consumer.group.name": consumer,
            "messaging.batch.message_count": len(records),
        },
    ):
        yield
