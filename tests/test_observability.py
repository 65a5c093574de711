"""The dashboard and the alert rules in deploy/observability chart and alert on metrics the code
exports, under their exported names (promtool and check.py see the syntax, not the names)."""

import json
import re
from pathlib import Path

import yaml
from prometheus_client import REGISTRY

# Imported for the metrics they register.
import activity_ingest.metrics  # noqa: F401
import keel.metrics  # noqa: F401
import tier_engine.metrics  # noqa: F401

OBSERVABILITY = Path(__file__).resolve().parents[1] / "deploy" / "observability"
OURS = re.compile(r"\b((?:http|keel|tier|ingest)_[a-z_]+)")
SUFFIXES = re.compile(r"_(total|bucket|count|sum)$")


def expressions() -> list[str]:
    dashboard = json.loads((OBSERVABILITY / "dashboard.json").read_text())
    rules = yaml.safe_load((OBSERVABILITY / "rules.yaml").read_text())
    return [
        target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])
    ] + [rule["expr"] for group in rules["groups"] for rule in group["rules"]]


def test_every_metric_the_dashboard_and_rules_read_is_exported() -> None:
    exported = {family.name for family in REGISTRY.collect()}
    read = {SUFFIXES.sub("", name) for expr in expressions() for name in OURS.findall(expr)}
    assert read - exported == set()
    assert {
        "keel_consumer_lag_messages",
        "keel_consumer_messages",
        "keel_outbox_publish_lag_seconds",
        "http_requests",
        "http_request_duration_seconds",
        "tier_rollup_last_completed_timestamp_seconds",
        "tier_rollup_last_duration_seconds",
    } <= read
