"""The tier engine's own metrics: the monthly rollup is a batch job, so, as Prometheus advises
for batch jobs, the duration and the completion time of the newest run (the alert on a rollup
missing by the 16th reads the latter; deploy/observability)."""

from prometheus_client import Gauge

ROLLUP_DURATION = Gauge(
    "tier_rollup_last_duration_seconds", "Duration of the newest rollup run by this process (T3)"
)
ROLLUP_COMPLETED_AT = Gauge(
    "tier_rollup_last_completed_timestamp_seconds",
    "When the newest rollup run by this process committed (Unix time)",
)
