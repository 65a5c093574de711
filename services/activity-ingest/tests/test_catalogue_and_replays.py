"""The event-type catalogue, replays, and the metrics of the ingest."""

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY

from keel.auth import Scope
from keel.clock import FixedClock
from keel.events.asyncapi import asyncapi_document
from keel.testing.plugin import MakeToken
from keel.testing.running import bearer
from keel.testing.samples import activity_event


async def test_the_catalogue_lists_every_type_with_schema_and_example(
    ingest: httpx.AsyncClient, producer: dict[str, str]
) -> None:
    answer = await ingest.get("/v1/event-types", headers=producer)
    assert answer.status_code == 200
    types = {entry["type"]: entry for entry in answer.json()["event_types"]}
    assert len(types) == 20  # 15, and the portal's five facts (issue 15)
    deal = types["deal.closed"]
    assert deal["topic"] == "deal.events.v1"
    assert deal["key"] == "partner_id"
    assert "mrr_delta" in deal["schema"]["properties"]
    assert deal["example"]["type"] == "deal.closed"
    assert types["client.updated"]["example"]["type"] == "client.updated"


async def test_asyncapi_json_is_the_document_of_the_same_catalogue(
    ingest: httpx.AsyncClient, producer: dict[str, str]
) -> None:
    assert (await ingest.get("/v1/asyncapi.json")).status_code == 401
    answer = await ingest.get("/v1/asyncapi.json", headers=producer)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == asyncapi_document()
    messages = answer.json()["components"]["messages"]
    for entry in (await ingest.get("/v1/event-types", headers=producer)).json()["event_types"]:
        assert messages[f"{entry['type']}.v{entry['version']}"]["payload"]["allOf"][1][
            "properties"
        ]["dataschema"] == {"const": entry["dataschema"]}


async def test_every_catalogue_example_is_accepted_as_it_is(
    ingest: httpx.AsyncClient,
    producer: dict[str, str],
    submit: Callable[..., Awaitable[httpx.Response]],
) -> None:
    catalogue = (await ingest.get("/v1/event-types", headers=producer)).json()["event_types"]
    examples = [entry["example"] for entry in catalogue]
    answer = await submit(examples, content_type="application/cloudevents-batch+json")
    assert answer.json()["accepted"] == len(examples), answer.json()


async def test_a_replay_queues_the_events_of_the_range_again(
    ingest: httpx.AsyncClient,
    make_token: MakeToken,
    submit: Callable[..., Awaitable[httpx.Response]],
    clock: FixedClock,
    count_rows: Callable[[str], Awaitable[int]],
) -> None:
    now = clock.now()
    events = [
        activity_event("old", now - timedelta(days=40)),
        activity_event("recent-1", now - timedelta(days=2)),
        activity_event("recent-2", now - timedelta(days=1)),
    ]
    await submit(events)
    window = {
        "from": (now - timedelta(days=7)).isoformat(),
        "to": now.isoformat(),
        "by": "event_time",
    }
    answer = await ingest.post("/v1/replays", json=window, headers=bearer(make_token(Scope.ADMIN)))
    assert answer.status_code == 202
    assert answer.json()["queued"] == 2
    assert await count_rows("outbox_message") == 5
    replayed = await count_rows("outbox_message WHERE convert_from(value, 'UTF8') LIKE '%recent-%'")
    assert replayed == 4


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"from": "2025-02-01T00:00:00Z", "to": "2025-01-01T00:00:00Z"}, "to"),
        ({"from": "2025-01-01T00:00:00", "to": "2025-02-01T00:00:00Z"}, "from"),
        ({"from": "2025-01-01T00:00:00Z", "to": "2025-02-01T00:00:00Z", "by": "x"}, "by"),
    ],
)
async def test_a_bad_replay_range_is_a_problem_naming_the_field(
    ingest: httpx.AsyncClient, make_token: MakeToken, body: dict[str, Any], field: str
) -> None:
    answer = await ingest.post("/v1/replays", json=body, headers=bearer(make_token(Scope.ADMIN)))
    assert answer.status_code == 422
    assert [error["field"] for error in answer.json()["errors"]] == [field]


async def test_only_admins_replay(ingest: httpx.AsyncClient, producer: dict[str, str]) -> None:
    body = {"from": "2025-01-01T00:00:00Z", "to": "2025-02-01T00:00:00Z"}
    answer = await ingest.post("/v1/replays", json=body, headers=producer)
    assert answer.status_code == 403


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_metrics_count_events_by_type_and_status_and_rejections_by_reason(
    ingest: httpx.AsyncClient, submit: Callable[..., Awaitable[httpx.Response]], clock: FixedClock
) -> None:
    accepted = ("ingest_events_total", {"type": "activity.performed", "status": "accepted"})
    duplicate = ("ingest_events_total", {"type": "activity.performed", "status": "duplicate"})
    unknown = ("ingest_rejections_total", {"reason": "unknown_type"})
    before = [sample(name, **labels) for name, labels in (accepted, duplicate, unknown)]
    event = activity_event("m-1", clock.now())
    batch = [event, event, {**event, "id": "m-2", "type": "activity.unheard_of"}]
    await submit(batch)
    after = [sample(name, **labels) for name, labels in (accepted, duplicate, unknown)]
    assert [b - a for a, b in zip(before, after, strict=True)] == [1, 1, 1]
    exposed = (await ingest.get("/metrics")).text
    assert 'ingest_events_total{status="accepted",type="activity.performed"}' in exposed
