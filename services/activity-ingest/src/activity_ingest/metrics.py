from collections import Counter as Tally

from prometheus_client import Counter

EVENTS = Counter(
    "ingest_events_total",
    "Submitted events by type and outcome (accepted, duplicate, rejected)",
    ["type", "status"],
)
REJECTIONS = Counter(
    "ingest_rejections_total",
    "Rejected events by reason (invalid_envelope, unknown_type, schema_violation, future_time...)",
    ["reason"],
)
REPLAYED = Counter("ingest_replayed_events_total", "Events queued again for publishing by replays")


def count(outcomes: Tally[tuple[str, str]], rejections: Tally[str]) -> None:
    """Once per request and label set, not per event."""
    for (event_type, status), n in outcomes.items():
        EVENTS.labels(event_type, status).inc(n)
    for reason, n in rejections.items():
        REJECTIONS.labels(reason).inc(n)
