"""One accepted event is one trace: the ingest request, ingest's outbox relay publishing it, the
credit-ledger worker applying it and publishing the credit it caused, the tier engine recording
that credit; spans from four processes, joined by the `traceparent` Kafka header. On the real
pipeline (PostgreSQL, Kafka), with the OpenTelemetry SDK's in-memory exporter."""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, format_span_id, format_trace_id
from pipeline_support import StartPipeline
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from keel.auth import Scope
from keel.clock import FixedClock
from keel.settings import Settings
from keel.testing.plugin import MakeToken
from keel.testing.running import bearer, eventually, ingest_all
from keel.testing.samples import activity_event, managed_client_events

SETUP = managed_client_events("2024-03-01", "2025-01-01", mrr="8000")
ACTIVITY = activity_event(
    "a1",
    "2025-03-02T09:00:00Z",
    user_id="u-1",
    user_email="ana@alpha.example",
    client_id="c-1",
)


def service(span: ReadableSpan) -> Any:
    return span.resource.attributes["service.name"]


def every(spans: Sequence[ReadableSpan], kind: SpanKind, name_end: str) -> list[ReadableSpan]:
    found = [s for s in spans if s.kind == kind and s.name.endswith(name_end)]
    assert found, f"no {kind.name} span named *{name_end}"
    return found


def one(spans: Sequence[ReadableSpan], kind: SpanKind, name_end: str) -> ReadableSpan:
    [found] = every(spans, kind, name_end)
    return found


def parent_of(span: ReadableSpan) -> str | None:
    return format_span_id(span.parent.span_id) if span.parent else None


def span_id(span: ReadableSpan) -> str:
    assert span.context is not None
    return format_span_id(span.context.span_id)


async def test_an_accepted_event_forms_one_trace_across_four_processes(
    span_exporter: InMemorySpanExporter,
    start_pipeline: StartPipeline,
    ledger_settings: Settings,
    make_token: MakeToken,
) -> None:
    clock = FixedClock(datetime(2025, 4, 1, 12, tzinfo=UTC))
    token = make_token(Scope.EVENTS_WRITE)
    ledger_db = create_async_engine(ledger_settings.database.url.get_secret_value())

    async def setup_applied() -> bool:
        async with ledger_db.connect() as connection:
            count = await connection.scalar(text("SELECT count(*) FROM applied_event"))
        return count == len(SETUP)

    try:
        async with start_pipeline(clock) as (ingest, _, _):
            await ingest_all(ingest, SETUP, token)
            await eventually(setup_applied)
            posted = await ingest.post("/v1/events", json=ACTIVITY, headers=bearer(token))
            assert posted.json()["results"][0]["status"] == "accepted"
            trace_id = posted.headers["x-request-id"]  # the request id is the trace id

            def in_trace() -> list[ReadableSpan]:
                return [
                    s
                    for s in span_exporter.get_finished_spans()
                    if s.context is not None and format_trace_id(s.context.trace_id) == trace_id
                ]

            async def tier_recorded() -> list[ReadableSpan] | None:
                """Every credit event the activity caused is checked, and a batch recorded."""
                found = in_trace()
                credit = [s.kind for s in found if s.name.endswith("credit.events.v1")]
                sent, processed = credit.count(SpanKind.PRODUCER), credit.count(SpanKind.CONSUMER)
                batches = [s for s in found if s.name == "process tier-engine batch"]
                return found if sent and sent == processed and batches else None

            trace = await eventually(tier_recorded, timeout_s=40)
    finally:
        await ledger_db.dispose()

    request = one(trace, SpanKind.SERVER, "POST /v1/events")
    relayed = one(trace, SpanKind.PRODUCER, "activity.events.v1")
    applied = one(trace, SpanKind.CONSUMER, "credit-ledger batch")
    # The activity changes the managed credit of one or more days: an event each.
    credited = every(trace, SpanKind.PRODUCER, "credit.events.v1")
    checked = every(trace, SpanKind.CONSUMER, "credit.events.v1")
    recorded = every(trace, SpanKind.CONSUMER, "tier-engine batch")
    # Each step is the child of the one before, across the api, three workers and Kafka.
    assert parent_of(relayed) == span_id(request)
    assert parent_of(applied) == span_id(relayed)
    assert {parent_of(s) for s in credited} == {span_id(applied)}
    assert {parent_of(s) for s in checked} == {span_id(s) for s in credited}
    assert {parent_of(s) for s in recorded} <= {span_id(s) for s in credited}
    assert [service(s) for s in (request, relayed, applied)] == [
        "activity-ingest",
        "activity-ingest",
        "credit-ledger",
    ]
    assert {service(s) for s in recorded} == {"tier-engine"}
    assert {service(s) for s in credited} == {"credit-ledger"}
    assert {service(s) for s in checked} == {"tier-engine"}
    assert relayed.attributes is not None
    assert relayed.attributes["messaging.system"] == "kafka"
    assert relayed.attributes["messaging.kafka.message.key"] == "c-1"
    assert checked[0].attributes is not None
    assert checked[0].attributes["messaging.consumer.group.name"] == "tier-engine"
    # The SQLAlchemy instrumentation's statements sit in the same trace, in each service.
    statements = {service(s) for s in trace if s.kind == SpanKind.CLIENT}
    assert statements >= {"activity-ingest", "credit-ledger", "tier-engine"}
