"""The manifests say what the services read: every setting a Kubernetes overlay or the compose file
gives is one a settings class reads, every process gets the settings it cannot start without, every
command is one the image has, and the policy directory is where the ConfigMap is mounted."""

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_type_hints

import pytest
import yaml
from pydantic_settings import BaseSettings

from activity_ingest import cli as ingest_cli
from activity_ingest import config as ingest_config
from capacity import cli as capacity_cli
from capacity import config as capacity_config
from credit_ledger import cli as ledger_cli
from credit_ledger import config as ledger_config
from keel.settings import KafkaSettings, ServiceSettings, Settings
from partner_portal import cli as portal_cli
from partner_portal import config as portal_config
from tier_engine import cli as tier_cli
from tier_engine import config as tier_config

ROOT = Path(__file__).resolve().parent.parent
OVERLAYS = sorted(p.name for p in (ROOT / "deploy/k8s/overlays").iterdir())
KUBECTL = Path(sys.executable).parent / "kubectl"
SERVICES = {
    "activity-ingest": (ingest_config, ingest_cli),
    "credit-ledger": (ledger_config, ledger_cli),
    "tier-engine": (tier_config, tier_cli),
    "capacity": (capacity_config, capacity_cli),
    "partner-portal": (portal_config, portal_cli),
}
# Commands that read only DATABASE_URL (PostgresSettings), not the whole service settings.
DATABASE_ONLY = {"migrate", "await-schema"}


def env_names(block: type[BaseSettings]) -> set[str]:
    prefix = str(block.model_config.get("env_prefix", ""))
    return {f"{prefix}{name}".upper() for name in block.model_fields}


def settings_of(service: str) -> type[Settings]:
    config, _ = SERVICES[service]
    settings: type[Settings] = get_type_hints(config.load_settings)["return"]
    return settings


def read_names(service: str) -> set[str]:
    """Every environment variable the service's settings classes read."""
    blocks = [field.annotation for field in settings_of(service).model_fields.values()]
    return set().union(*(env_names(block) for block in blocks if block is not None))


def required_names(service: str) -> set[str]:
    names = set()
    for field in settings_of(service).model_fields.values():
        block = field.annotation
        assert block is not None
        prefix = str(block.model_config.get("env_prefix", ""))
        names |= {f"{prefix}{n}".upper() for n, f in block.model_fields.items() if f.is_required()}
    return names - {"SERVICE_NAME"}


def render(overlay: str) -> list[dict[str, Any]]:
    rendered = subprocess.run(
        [KUBECTL, "kustomize", ROOT / "deploy/k8s/overlays" / overlay],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [doc for doc in yaml.safe_load_all(rendered) if doc]


def pod_spec(resource: dict[str, Any]) -> dict[str, Any] | None:
    if resource["kind"] in ("Deployment", "Job"):
        spec: dict[str, Any] = resource["spec"]["template"]["spec"]
        return spec
    if resource["kind"] == "CronJob":
        spec = resource["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        return spec
    return None


def containers(
    resources: list[dict[str, Any]],
) -> Iterator[tuple[str, dict[str, Any], dict[str, str]]]:
    """(service or "", container, its environment as names -> value or secret reference)."""
    config_maps = {
        r["metadata"]["name"]: r.get("data", {}) for r in resources if r["kind"] == "ConfigMap"
    }
    for resource in resources:
        spec = pod_spec(resource)
        if spec is None:
            continue
        service = resource["metadata"].get("labels", {}).get("app.kubernetes.io/name", "")
        for container in spec.get("initContainers", []) + spec["containers"]:
            env: dict[str, str] = {}
            for source in container.get("envFrom", []):
                env.update(config_maps[source["configMapRef"]["name"]])
            for entry in container.get("env", []):
                secret = entry.get("valueFrom", {}).get("secretKeyRef")
                env[entry["name"]] = (
                    f"secret:{secret['name']}/{secret['key']}" if secret else entry["value"]
                )
            yield service, container, env


@pytest.fixture(scope="module", params=OVERLAYS)
def rendered(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    return render(request.param)


def test_every_overlay_runs_all_five_services_and_the_topics_job(
    rendered: list[dict[str, Any]],
) -> None:
    services = {service for service, _, _ in containers(rendered)}
    assert services == {"", *SERVICES}
    kinds = {(r["kind"], r["metadata"]["name"]) for r in rendered}
    for service in SERVICES:
        for kind, name in [
            ("Deployment", "api"),
            ("Deployment", "worker"),
            ("Service", "api"),
            ("Job", "migrate"),
            ("HorizontalPodAutoscaler", "api"),
            ("PodDisruptionBudget", "api"),
            ("PodDisruptionBudget", "worker"),
        ]:
            assert (kind, f"{service}-{name}") in kinds
    assert ("CronJob", "tier-engine-rollup") in kinds
    assert ("Job", "partner-credit-topics") in kinds


def test_every_setting_in_the_manifests_is_one_the_service_reads(
    rendered: list[dict[str, Any]],
) -> None:
    for service, container, env in containers(rendered):
        known = (
            read_names(service)
            if service
            else env_names(KafkaSettings) | env_names(ServiceSettings)
        )
        unknown = set(env) - known
        assert not unknown, f"{service or 'topics'}/{container['name']} sets {sorted(unknown)}"


def test_every_process_gets_the_settings_it_cannot_start_without(
    rendered: list[dict[str, Any]],
) -> None:
    for service, container, env in containers(rendered):
        command = (container.get("args") or container.get("command"))[0]
        if not service:
            wanted = {"KAFKA_BOOTSTRAP_SERVERS"}
        elif command in DATABASE_ONLY:
            wanted = {"DATABASE_URL"}
        else:
            wanted = required_names(service)
        assert wanted <= set(env), f"{service}/{command} lacks {sorted(wanted - set(env))}"
        if service:
            assert env["DATABASE_URL"] == f"secret:{service}-database/url"


def test_every_command_is_one_the_image_has(rendered: list[dict[str, Any]]) -> None:
    for service, container, _ in containers(rendered):
        if service:
            _, cli = SERVICES[service]
            assert container["args"][0] in cli.COMMANDS
            assert container["image"].split(":")[0].endswith(f"/{service}")
        else:
            assert container["command"] == ["keel-topics"]


def test_the_policy_directory_is_where_the_policies_configmap_is_mounted(
    rendered: list[dict[str, Any]],
) -> None:
    mounted = 0
    for service, container, env in containers(rendered):
        if "SERVICE_POLICY_DIR" not in env or container["name"] != "app":
            continue
        mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
        assert mounts.get(env["SERVICE_POLICY_DIR"]) == "policies", f"{service}: {mounts}"
        mounted += 1
    # api and worker of four services, and the tier engine's rollup.
    assert mounted == 9


def test_the_worker_outlives_a_consumer_batch_on_shutdown(rendered: list[dict[str, Any]]) -> None:
    for resource in rendered:
        if resource["kind"] == "Deployment" and resource["metadata"]["name"].endswith("-worker"):
            spec = resource["spec"]["template"]["spec"]
            assert (
                spec["terminationGracePeriodSeconds"]
                > KafkaSettings.model_fields["session_timeout_ms"].default / 1000
            )


@pytest.fixture(scope="module")
def compose_services() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "deploy/compose.yaml").read_text())
    services: dict[str, Any] = loaded["services"]
    return services


def test_compose_sets_only_settings_the_services_read(compose_services: dict[str, Any]) -> None:
    for name, definition in compose_services.items():
        service = next((s for s in SERVICES if name.startswith(s)), None)
        if service is None:
            continue
        env = set(definition["environment"])
        assert env - read_names(service) == set(), name
        command = definition["command"][0]
        wanted = {"DATABASE_URL"} if command in DATABASE_ONLY else required_names(service)
        assert wanted <= env, f"{name} lacks {sorted(wanted - env)}"


def test_compose_migrates_before_the_services_start(compose_services: dict[str, Any]) -> None:
    for service in SERVICES:
        for process in ("api", "worker"):
            depends = compose_services[f"{service}-{process}"]["depends_on"]
            assert depends[f"{service}-migrate"]["condition"] == "service_completed_successfully"
            assert depends["topics"]["condition"] == "service_completed_successfully"


def test_the_portal_reaches_the_four_apis_through_their_services(
    rendered: list[dict[str, Any]],
) -> None:
    """Its base URLs name the four Services, and a NetworkPolicy lets its api pods reach the
    pods behind them (everything else stays denied)."""
    services = {r["metadata"]["name"] for r in rendered if r["kind"] == "Service"}
    [portal_env] = [
        env
        for service, container, env in containers(rendered)
        if service == "partner-portal" and container["args"] == ["api"]
    ]
    urls = {portal_env[f"PORTAL_{name}_URL"] for name in ("INGEST", "LEDGER", "TIER", "CAPACITY")}
    assert (
        {url.removeprefix("http://") for url in urls}
        == {f"{service}-api" for service in SERVICES if service != "partner-portal"}
        <= services
    )
    [policy] = [
        r
        for r in rendered
        if r["kind"] == "NetworkPolicy" and r["metadata"]["name"] == "partner-portal-to-apis"
    ]
    assert (
        policy["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == "partner-portal"
    )
    [egress] = policy["spec"]["egress"]
    [target] = egress["to"]
    assert set(target["podSelector"]["matchExpressions"][0]["values"]) == set(SERVICES) - {
        "partner-portal"
    }
    assert egress["ports"] == [{"port": 8000, "protocol": "TCP"}]
