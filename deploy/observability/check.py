"""Offline checks of deploy/observability that promtool does not make (make k8s-validate).

- The Grafana dashboard loads into Grafana's typed dashboard models (grafana-foundation-sdk, with
  the panel and Prometheus query plugins registered) and comes back out unchanged: a misspelt or
  unknown field, or a value of the wrong shape, is dropped or changed on the way, and reported.
- The PrometheusRule's spec is rules.yaml itself, so the operator and plain installs alert alike.

Usage: python check.py (run from anywhere; exits 1 on a finding).
"""

import json
import sys
from pathlib import Path
from typing import Any

import yaml
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.models.dashboard import Dashboard

HERE = Path(__file__).resolve().parent


def differences(given: Any, loaded: Any, path: str = "") -> list[str]:
    """Where the loaded form lost or changed what the file says (defaults it adds are fine)."""
    if isinstance(given, dict) and isinstance(loaded, dict):
        found = []
        for key, value in given.items():
            if key not in loaded:
                found.append(f"{path}/{key}: not a field of the model")
            else:
                found += differences(value, loaded[key], f"{path}/{key}")
        return found
    if isinstance(given, list) and isinstance(loaded, list) and len(given) == len(loaded):
        return [
            finding
            for index, (a, b) in enumerate(zip(given, loaded, strict=True))
            for finding in differences(a, b, f"{path}/{index}")
        ]
    return [] if given == loaded else [f"{path}: {given!r} loads as {loaded!r}"]


def check_dashboard(path: Path) -> list[str]:
    register_default_plugins()
    given = json.loads(path.read_text())
    loaded = json.loads(json.dumps(Dashboard.from_json(given), cls=JSONEncoder))
    return [f"{path.name}{finding}" for finding in differences(given, loaded)]


def check_prometheus_rule(rule: Path, plain: Path) -> list[str]:
    resource = yaml.safe_load(rule.read_text())
    if resource.get("kind") != "PrometheusRule":
        return [f"{rule.name}: kind is {resource.get('kind')!r}, not PrometheusRule"]
    if resource.get("spec") != yaml.safe_load(plain.read_text()):
        return [f"{rule.name}: spec differs from {plain.name}; change both together"]
    return []


def main() -> int:
    findings = check_dashboard(HERE / "dashboard.json") + check_prometheus_rule(
        HERE / "prometheus-rule.yaml", HERE / "rules.yaml"
    )
    for finding in findings:
        sys.stderr.write(f"{finding}\n")
    if not findings:
        sys.stdout.write("dashboard.json loads unchanged; prometheus-rule.yaml is rules.yaml\n")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
