"""Issue 12, point 3: facts dated before the program's first policy version (2018-01-01) are data,
not crashes. Through the real stack (ingest, its relay, the ledger and tier-engine workers, on
PostgreSQL and Kafka): a client created in 2015 is recorded and later credited; an activity of
2017 is kept but credits nothing; a deal of 2015, which no rate table can price, is dead-lettered
with its reason while the later deal applies; no worker dies."""

from datetime import UTC, datetime
from typing import Any

from pipeline_support import StartPipeline

from keel.auth import Scope
from keel.clock import FixedClock
from keel.events import topics
from keel.settings import KafkaSettings
from keel.testing.plugin import MakeToken
from keel.testing.running import (
    bearer,
    eventually,
    ingest_all,
    message_count,
    read_topic,
)
from keel.testing.samples import activity_event, deal_event, managed_client_events


def deal(event_id: str, day: str) -> dict[str, Any]:
    return deal_event(event_id, f"{day}T10:00:00Z", mrr_delta="1000")


UPSTREAM = [
    *managed_client_events("2015-05-01", "2015-06-01", mrr="100"),
    # Under the first window (90 days) this would count until 2018-02-28, had it been catalogued.
    activity_event("a-2017", "2017-12-01T09:00:00Z", user_id="u-1", user_email="ana@alpha.example"),
    deal("d-2015", "2015-06-01"),
    activity_event("a-2024", "2024-03-02T09:00:00Z", user_id="u-1", user_email="ana@alpha.example"),
    deal("d-2024", "2024-03-01"),
]


async def test_facts_before_the_first_policy_are_recorded_and_credit_nothing(
    start_pipeline: StartPipeline, kafka_settings: KafkaSettings, make_token: MakeToken
) -> None:
    clock = FixedClock(datetime(2024, 4, 1, 12, tzinfo=UTC))
    admin = bearer(make_token(Scope.ADMIN))
    async with start_pipeline(clock) as (ingest, ledger, tiers):
        await ingest_all(ingest, UPSTREAM, make_token(Scope.EVENTS_WRITE))

        async def expiry_recorded() -> list[dict[str, Any]] | None:
            answer = await ledger.get("/v1/partners/p-1/ledger", headers=admin)
            entries: list[dict[str, Any]] = answer.json()["entries"]
            return entries if len(entries) >= 2 else None

        entries = await eventually(expiry_recorded, timeout_s=40)

        async def both_known() -> dict[str, Any] | None:
            answer = await tiers.get(
                "/v1/partners/p-1/clients/c-1/points-history",
                params={"as_of": "2024-03-20"},
                headers=admin,
            )
            if answer.status_code == 404:  # nothing recorded for c-1 yet
                return None
            body: dict[str, Any] = answer.json()
            return body if body["deals"] and len(body["managed_credit"]) >= 2 else None

        history = await eventually(both_known, timeout_s=40)
        [letter] = await read_topic(kafka_settings, f"{topics.DEAL.name}.dlq", 1)
        today = (
            await ledger.get(
                "/v1/clients/c-1/attribution", params={"as_of": "2024-03-05"}, headers=admin
            )
        ).json()
        early = (
            await ledger.get(
                "/v1/clients/c-1/attribution", params={"as_of": "2018-01-15"}, headers=admin
            )
        ).json()

    # The ledger: credit starts with the 2024 activity, on the client recorded since 2015 (M1);
    # nothing before it, so the 2017 activity credited no day, and it expires after 60 days (M2).
    assert [(e["effective_on"], e["amount"], e["rule"]) for e in entries] == [
        ("2024-03-02", "100.00", "M1"),
        ("2024-05-01", "0", "M2"),
    ]
    assert (today["mrr"], today["currency"], today["country"]) == ("100", "USD", "US")
    assert [m["partner_id"] for m in today["managing"]] == ["p-1"]
    assert early["managing"] == []
    [not_managing] = early["not_managing"]
    assert not_managing["partner_id"] == "p-1"
    assert await message_count(kafka_settings, f"{topics.ACTIVITY.name}.dlq") == 0
    assert await message_count(kafka_settings, f"{topics.ACCOUNT.name}.dlq") == 0
    # The tier engine: the 2015 deal has no rate table; the 2024 one is recorded.
    headers = {key: value.decode() for key, value in letter.headers}
    assert headers["dlq-reason"] == "no_policy_in_force"
    assert "first is in force from 2018-01-01" in headers["dlq-detail"]
    assert b'"d-2015"' in letter.value
    # Recorded and judged (S3: no registration of the domain at close, so no sold credit).
    assert [(d["deal_id"], d["status"]) for d in history["deals"]] == [("d-2024", "not_credited")]
    assert [c["effective_on"] for c in history["managed_credit"]] == ["2024-03-02", "2024-05-01"]
