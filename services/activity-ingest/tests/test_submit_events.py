"""POST /v1/events against a real PostgreSQL: durable accept, per-item results, dedup, refusals."""

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from activity_ingest.config import IngestServiceSettings
from keel.auth import Scope
from keel.clock import FixedClock
from keel.testing.plugin import MakeToken
from keel.testing.samples import activity_event, deal_event

BATCH = "application/cloudevents-batch+json"
SINGLE = "application/cloudevents+json"


def activity(event_id: str, clock: FixedClock, **data: Any) -> dict[str, Any]:
    return activity_event(event_id, clock.now() - timedelta(minutes=1), **data)


@pytest.fixture
def producer(make_token: MakeToken) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(Scope.EVENTS_WRITE)}"}


async def stored(settings: IngestServiceSettings, table: str) -> int:
    engine = create_async_engine(settings.database.url.get_secret_value())
    try:
        async with engine.connect() as connection:
            return int(await connection.scalar(text(f"SELECT count(*) FROM {table}")) or 0)  # noqa: S608
    finally:
        await engine.dispose()


async def test_an_accepted_event_is_in_the_log_and_the_outbox(
    ingest: httpx.AsyncClient,
    producer: dict[str, str],
    clock: FixedClock,
    ingest_settings: IngestServiceSettings,
) -> None:
    answer = await ingest.post(
        "/v1/events", json=activity("e-1", clock), headers={**producer, "content-type": SINGLE}
    )
    assert answer.status_code == 202
    assert answer.json() == {
        "results": [{"id": "e-1", "source": "product/blog", "status": "accepted", "errors": []}],
        "accepted": 1,
        "duplicate": 0,
        "rejected": 0,
    }
    assert await stored(ingest_settings, "ingested_event") == 1
    assert await stored(ingest_settings, "outbox_message") == 1


async def test_a_second_copy_is_a_duplicate_and_not_queued_again(
    ingest: httpx.AsyncClient,
    producer: dict[str, str],
    clock: FixedClock,
    ingest_settings: IngestServiceSettings,
) -> None:
    event = activity("e-1", clock)
    await ingest.post("/v1/events", json=event, headers=producer)
    again = await ingest.post("/v1/events", json=event, headers=producer)
    assert again.status_code == 202
    assert again.json()["results"][0]["status"] == "duplicate"
    assert await stored(ingest_settings, "outbox_message") == 1


async def test_a_mixed_batch_accepts_the_valid_events_in_order(
    ingest: httpx.AsyncClient,
    producer: dict[str, str],
    clock: FixedClock,
    ingest_settings: IngestServiceSettings,
) -> None:
    future = activity("e-future", clock)
    future["time"] = (clock.now() + timedelta(minutes=6)).isoformat()
    batch = [
        activity("e-1", clock),
        activity("e-bad", clock, user_email="nope"),
        activity("e-1", clock),
        {**activity("e-type", clock), "type": "activity.vanished"},
        future,
        "not an object",
        activity("e-2", clock),
    ]
    answer = await ingest.post(
        "/v1/events",
        content=httpx.Response(200, json=batch).content,
        headers={**producer, "content-type": BATCH},
    )
    assert answer.status_code == 202
    report = answer.json()
    assert [r["status"] for r in report["results"]] == [
        "accepted",
        "rejected",
        "duplicate",
        "rejected",
        "rejected",
        "rejected",
        "accepted",
    ]
    assert (report["accepted"], report["duplicate"], report["rejected"]) == (2, 1, 4)
    assert report["results"][1]["errors"][0]["field"] == "data.user_email"
    assert report["results"][3]["errors"][0]["field"] == "type"
    assert report["results"][4]["errors"][0]["field"] == "time"
    assert await stored(ingest_settings, "ingested_event") == 2


async def test_a_single_rejected_event_is_a_422_problem_naming_the_field(
    ingest: httpx.AsyncClient, producer: dict[str, str], clock: FixedClock
) -> None:
    answer = await ingest.post(
        "/v1/events", json=activity("e-1", clock, client_id=""), headers=producer
    )
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in answer.json()["errors"]] == ["data.client_id"]


async def test_events_far_in_the_past_are_accepted(
    ingest: httpx.AsyncClient, producer: dict[str, str], clock: FixedClock
) -> None:
    old = activity("e-old", clock)
    old["time"] = "2019-01-01T00:00:00Z"
    answer = await ingest.post("/v1/events", json=old, headers=producer)
    assert answer.json()["accepted"] == 1


async def test_a_deal_whose_client_domain_is_not_registrable_is_rejected_naming_the_field(
    ingest: httpx.AsyncClient,
    producer: dict[str, str],
    clock: FixedClock,
    ingest_settings: IngestServiceSettings,
) -> None:
    """Issue 12, point 4: the tier engine could never match `x.example` (C1, S3), so ingest says
    so at once instead of answering `accepted` for a deal that can never count."""

    def deal(event_id: str, client_domain: str) -> dict[str, Any]:
        return deal_event(event_id, clock.now() - timedelta(minutes=1), client_domain=client_domain)

    answer = await ingest.post(
        "/v1/events",
        json=[deal("d-bad", "x.example"), deal("d-good", "www.client-one.com")],
        headers={**producer, "content-type": BATCH},
    )
    assert answer.status_code == 202
    bad, good = answer.json()["results"]
    assert (bad["status"], good["status"]) == ("rejected", "accepted")
    [error] = bad["errors"]
    assert error["field"] == "data.client_domain"
    assert "'x.example' is not a registrable domain" in error["reason"]
    assert await stored(ingest_settings, "ingested_event") == 1


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{not json", SINGLE, 400),
        (b"42", SINGLE, 400),
        (b"[]", BATCH, 422),
        (b"{}", "text/plain", 415),
        (b'{"a": 1}', BATCH, 400),
    ],
)
async def test_requests_that_are_not_events_are_problems_and_store_nothing(
    ingest: httpx.AsyncClient,
    producer: dict[str, str],
    ingest_settings: IngestServiceSettings,
    body: bytes,
    content_type: str,
    status: int,
) -> None:
    answer = await ingest.post(
        "/v1/events", content=body, headers={**producer, "content-type": content_type}
    )
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/problem+json"
    assert await stored(ingest_settings, "ingested_event") == 0


async def test_a_body_over_the_limit_is_a_413(
    ingest: httpx.AsyncClient, producer: dict[str, str], ingest_settings: IngestServiceSettings
) -> None:
    body = b"[" + b" " * ingest_settings.ingest.max_body_bytes + b"]"
    answer = await ingest.post(
        "/v1/events", content=body, headers={**producer, "content-type": BATCH}
    )
    assert answer.status_code == 413


async def test_only_producers_and_admins_may_submit(
    ingest: httpx.AsyncClient, make_token: MakeToken, clock: FixedClock
) -> None:
    partner = {"Authorization": f"Bearer {make_token(Scope.PARTNER_WRITE, partner_id='p-1')}"}
    answer = await ingest.post("/v1/events", json=activity("e-1", clock), headers=partner)
    anonymous = await ingest.post("/v1/events", json=activity("e-1", clock))
    assert (answer.status_code, anonymous.status_code) == (403, 401)
