"""POST /v1/events against a real PostgreSQL: durable accept, per-item results, dedup, refusals."""

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest

from activity_ingest.config import IngestServiceSettings
from keel.auth import Scope
from keel.clock import FixedClock
from keel.testing.plugin import MakeToken
from keel.testing.running import bearer
from keel.testing.samples import activity_event, deal_event

BATCH = "application/cloudevents-batch+json"
SINGLE = "application/cloudevents+json"

Submit = Callable[..., Awaitable[httpx.Response]]
CountRows = Callable[[str], Awaitable[int]]


def activity(event_id: str, clock: FixedClock, **data: Any) -> dict[str, Any]:
    return activity_event(event_id, clock.now() - timedelta(minutes=1), **data)


async def test_an_accepted_event_is_in_the_log_and_the_outbox(
    submit: Submit, clock: FixedClock, count_rows: CountRows
) -> None:
    answer = await submit(activity("e-1", clock), content_type=SINGLE)
    assert answer.status_code == 202
    assert answer.json() == {
        "results": [{"id": "e-1", "source": "product/blog", "status": "accepted", "errors": []}],
        "accepted": 1,
        "duplicate": 0,
        "rejected": 0,
    }
    assert await count_rows("ingested_event") == 1
    assert await count_rows("outbox_message") == 1


async def test_a_second_copy_is_a_duplicate_and_not_queued_again(
    submit: Submit, clock: FixedClock, count_rows: CountRows
) -> None:
    event = activity("e-1", clock)
    await submit(event)
    again = await submit(event)
    assert again.status_code == 202
    assert again.json()["results"][0]["status"] == "duplicate"
    assert await count_rows("outbox_message") == 1


async def test_a_mixed_batch_accepts_the_valid_events_in_order(
    submit: Submit, clock: FixedClock, count_rows: CountRows
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
    answer = await submit(content=httpx.Response(200, json=batch).content, content_type=BATCH)
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
    assert await count_rows("ingested_event") == 2


async def test_a_single_rejected_event_is_a_422_problem_naming_the_field(
    submit: Submit, clock: FixedClock
) -> None:
    answer = await submit(activity("e-1", clock, client_id=""))
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in answer.json()["errors"]] == ["data.client_id"]


async def test_events_far_in_the_past_are_accepted(submit: Submit, clock: FixedClock) -> None:
    old = activity("e-old", clock)
    old["time"] = "2019-01-01T00:00:00Z"
    answer = await submit(old)
    assert answer.json()["accepted"] == 1


async def test_a_deal_whose_client_domain_is_not_registrable_is_rejected_naming_the_field(
    submit: Submit, clock: FixedClock, count_rows: CountRows
) -> None:
    """Issue 12, point 4: the tier engine could never match `x.example` (C1, S3), so ingest says
    so at once instead of answering `accepted` for a deal that can never count."""

    def deal(event_id: str, client_domain: str) -> dict[str, Any]:
        return deal_event(event_id, clock.now() - timedelta(minutes=1), client_domain=client_domain)

    answer = await submit(
        [deal("d-bad", "x.example"), deal("d-good", "www.client-one.com")], content_type=BATCH
    )
    assert answer.status_code == 202
    bad, good = answer.json()["results"]
    assert (bad["status"], good["status"]) == ("rejected", "accepted")
    [error] = bad["errors"]
    assert error["field"] == "data.client_domain"
    assert "'x.example' is not a registrable domain" in error["reason"]
    assert await count_rows("ingested_event") == 1


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
    submit: Submit, count_rows: CountRows, body: bytes, content_type: str, status: int
) -> None:
    answer = await submit(content=body, content_type=content_type)
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/problem+json"
    assert await count_rows("ingested_event") == 0


async def test_a_body_over_the_limit_is_a_413(
    submit: Submit, ingest_settings: IngestServiceSettings
) -> None:
    body = b"[" + b" " * ingest_settings.ingest.max_body_bytes + b"]"
    answer = await submit(content=body, content_type=BATCH)
    assert answer.status_code == 413


async def test_only_producers_and_admins_may_submit(
    ingest: httpx.AsyncClient, make_token: MakeToken, clock: FixedClock
) -> None:
    partner = bearer(make_token(Scope.PARTNER_WRITE, partner_id="p-1"))
    answer = await ingest.post("/v1/events", json=activity("e-1", clock), headers=partner)
    anonymous = await ingest.post("/v1/events", json=activity("e-1", clock))
    assert (answer.status_code, anonymous.status_code) == (403, 401)
