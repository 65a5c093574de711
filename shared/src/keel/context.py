"""The request context that travels with work: HTTP header in, log lines, Kafka headers out.

A W3C `traceparent` is taken from the incoming request (or made), its trace id is the request id
shown in logs and responses, and the same `traceparent` rides on every Kafka message the request
causes, so a consumer's log lines carry the id of the request that started it all.

When OpenTelemetry tracing is on (keel.tracing), its current span is the context: the request id
is the OpenTelemetry trace id, and log lines and Kafka headers name that span.
"""

import re
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from opentelemetry import trace as otel

TRACEPARENT = "traceparent"
REQUEST_ID_HEADER = "x-request-id"
_TRACEPARENT_RE = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


@dataclass(frozen=True, slots=True)
class TraceContext:
    trace_id: str
    span_id: str
    sampled: bool = True  # the W3C `sampled` flag: whether the caller records this trace

    @property
    def traceparent(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-{'01' if self.sampled else '00'}"

    def child(self) -> "TraceContext":
        return TraceContext(self.trace_id, secrets.token_hex(8), self.sampled)

    @classmethod
    def new(cls) -> "TraceContext":
        return cls(secrets.token_hex(16), secrets.token_hex(8))

    @classmethod
    def from_span(cls) -> "TraceContext | None":
        """The current OpenTelemetry span's ids, if a span is current (tracing on)."""
        span = otel.get_current_span().get_span_context()
        if not span.is_valid:
            return None
        return cls(
            otel.format_trace_id(span.trace_id),
            otel.format_span_id(span.span_id),
            span.trace_flags.sampled,
        )

    @classmethod
    def parse(cls, traceparent: str | None) -> "TraceContext | None":
        if not traceparent:
            return None
        match = _TRACEPARENT_RE.match(traceparent.strip().lower())
        if match is None or set(match.group(1)) == {"0"}:
            return None
        return cls(match.group(1), match.group(2), bool(int(match.group(3), 16) & 1))


_current: ContextVar[TraceContext | None] = ContextVar("keel_trace", default=None)


def current() -> TraceContext | None:
    return TraceContext.from_span() or _current.get()


def request_id() -> str | None:
    trace = current()
    return trace.trace_id if trace else None


@contextmanager
def bind(trace: TraceContext) -> Iterator[TraceContext]:
    token = _current.set(trace)
    try:
        yield trace
    finally:
        _current.reset(token)


def kafka_headers() -> list[tuple[str, bytes]]:
    """Headers for an outgoing message: the current span as its parent (tracing on), else the
    current trace continued, or a new one."""
    trace = TraceContext.from_span() or (_current.get() or TraceContext.new()).child()
    return [(TRACEPARENT, trace.traceparent.encode())]


def from_kafka_headers(headers: Sequence[tuple[str, bytes]] | None) -> TraceContext:
    for name, value in headers or ():
        if name == TRACEPARENT:
            parsed = TraceContext.parse(value.decode("ascii", "replace"))
            if parsed is not None:
                return parsed.child()
    return TraceContext.new()
