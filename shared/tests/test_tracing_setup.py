"""Tracing set-up without the pipeline: off unless an OTLP endpoint is set, the standard OTEL_*
variables honoured, headers rewritten only when on, and log lines carrying the span's ids."""

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, format_span_id, format_trace_id
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from keel import tracing
from keel.context import TRACEPARENT, kafka_headers
from keel.http.app import create_service_app
from keel.kafka.publisher import Message
from keel.logs import configure_logging
from keel.runtime import Runtime
from keel.settings import Settings

INCOMING = b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def test_without_an_otlp_endpoint_tracing_stays_off(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in tracing.ENDPOINT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    tracing.configure_from_environment("credit-ledger")
    assert tracing.tracer("credit-ledger") is None
    message = Message("credit.events.v1", "p-1", b"{}", [(TRACEPARENT, INCOMING)])
    with tracing.sending([message], ["credit.events.v1"]) as headers:
        assert headers == [[(TRACEPARENT, INCOMING)]]


class Collector(BaseHTTPRequestHandler):
    """An OTLP/HTTP receiver: keeps each export request it is sent."""

    received: ClassVar[list[tuple[str, bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def collector(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, bytes]]]:
    server = HTTPServer(("127.0.0.1", 0), Collector)
    Collector.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "ledger-eu")
    yield Collector.received
    server.shutdown()
    thread.join()


def test_an_otlp_endpoint_turns_export_on(collector: list[tuple[str, bytes]]) -> None:
    try:
        tracing.configure_from_environment("credit-ledger")
        active = tracing.tracer("credit-ledger")
        assert active is not None
        with active.start_as_current_span("apply"):
            pass
        assert tracing._processor is not None
        tracing._processor.force_flush()
    finally:
        if tracing._processor is not None:
            tracing._processor.shutdown()
        tracing.use(None)
        HTTPXClientInstrumentor().uninstrument()
    [(path, body)] = collector
    assert path == "/v1/traces"
    request = ExportTraceServiceRequest.FromString(body)
    [resource_spans] = request.resource_spans
    attributes = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
    assert attributes["service.name"] == "ledger-eu"
    assert [span.name for span in resource_spans.scope_spans[0].spans] == ["apply"]


def test_off_the_apps_are_not_instrumented(settings: Settings) -> None:
    app = create_service_app(Runtime.create(settings), title="t", description="t", routers=[])
    assert not getattr(app, "_is_instrumented_by_opentelemetry", False)


def test_on_the_apps_are_instrumented(
    settings: Settings, span_exporter: InMemorySpanExporter
) -> None:
    app = create_service_app(Runtime.create(settings), title="t", description="t", routers=[])
    assert getattr(app, "_is_instrumented_by_opentelemetry", False)


def test_otel_service_name_and_resource_attributes_are_honoured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.delenv("OTEL_RESOURCE_ATTRIBUTES", raising=False)
    assert tracing.resource("tier-engine").attributes["service.name"] == "tier-engine"
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=prod,team=credit")
    attributes = tracing.resource("tier-engine").attributes
    assert (attributes["service.name"], attributes["deployment.environment"]) == (
        "tier-engine",
        "prod",
    )
    monkeypatch.setenv("OTEL_SERVICE_NAME", "tier-engine-eu")
    assert tracing.resource("tier-engine").attributes["service.name"] == "tier-engine-eu"


def test_a_sent_message_carries_its_producer_span_as_traceparent(
    span_exporter: InMemorySpanExporter,
) -> None:
    message = Message("credit.events.v1", "p-1", b"{}", [(TRACEPARENT, INCOMING), ("x", b"y")])
    with (
        tracing.serving("credit-ledger"),
        tracing.sending([message], ["credit.events.v1"]) as [headers],
    ):
        pass
    [span] = span_exporter.get_finished_spans()
    assert span.kind == SpanKind.PRODUCER
    assert span.parent is not None
    assert format_span_id(span.parent.span_id) == "b7ad6b7169203331"
    assert span.context is not None
    own = f"00-{format_trace_id(span.context.trace_id)}-{format_span_id(span.context.span_id)}-01"
    assert [(name, value) for name, value in headers if name == TRACEPARENT] == [
        (TRACEPARENT, own.encode())
    ]
    assert ("x", b"y") in headers


def test_log_lines_carry_the_trace_and_span_ids_under_the_standard_names(
    span_exporter: InMemorySpanExporter, capsys: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    active = tracing.tracer("capacity")
    assert active is not None
    try:
        configure_logging("capacity")
        with active.start_as_current_span("work") as span:
            logging.getLogger("keel.test").warning("inside")
        logging.getLogger("keel.test").warning("outside")
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    inside, outside = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    context = span.get_span_context()
    assert inside["trace_id"] == inside["request_id"] == format_trace_id(context.trace_id)
    assert inside["span_id"] == format_span_id(context.span_id)
    assert (outside["trace_id"], outside["span_id"]) == (None, None)


def test_an_unsampled_trace_stays_unsampled_downstream(span_exporter: InMemorySpanExporter) -> None:
    """An unsampled request's outbox rows say so, so the relay and consumers do not record
    fragments of a trace the front door chose to drop."""
    active = tracing.tracer("activity-ingest")
    assert active is not None
    incoming = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"
    parent = TraceContextTextMapPropagator().extract({TRACEPARENT: incoming})
    with active.start_as_current_span("request", context=parent):
        [(_, header)] = kafka_headers()
    assert header.decode().endswith("-00")
    assert span_exporter.get_finished_spans() == ()
