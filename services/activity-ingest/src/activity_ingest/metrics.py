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
