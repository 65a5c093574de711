"""Prometheus metrics of the shared machinery; a service adds its own beside them."""

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "http_requests_total", "HTTP requests answered", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["service", "method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
CONSUMED = Counter(
    "keel_consumer_messages_total",
    "Messages a consumer finished with, by outcome (applied, duplicate, dead_lettered)",
    ["consumer", "topic", "outcome"],
)
CONSUMER_BATCH = Histogram(
    "keel_consumer_batch_seconds",
    "Time to apply one partition batch (one transaction, more while isolating a poison event)",
    ["consumer"],
)
CONSUMER_RETRIES = Counter(
    "keel_consumer_retries_total",
    "Batches rolled back and retried after a transient error",
    ["consumer"],
)
CONSUMER_LAG = Gauge(
    "keel_consumer_lag_messages",
    "High watermark minus the consumer group's committed offset (keel.kafka.lag)",
    ["consumer", "topic", "partition"],
)
OUTBOX_PUBLISHED = Counter("keel_outbox_published_total", "Outbox messages published", ["topic"])
OUTBOX_LAG = Histogram(
    "keel_outbox_publish_lag_seconds",
    "From outbox write (commit) to broker acknowledgement",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
