"""From events posted to activity-ingest to a credited tier read from the tier engine: ingest's
outbox, the credit-ledger worker and the tier-engine worker, on real PostgreSQL and Kafka."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pipeline_support import StartPipeline

from keel.auth import Scope
from keel.clock import FixedClock
from keel.events.catalogue import DOMAIN_REGISTERED, EVENTS
from keel.events.payloads.capacity import DomainRegisteredV1
from keel.settings import KafkaSettings
from keel.testing.plugin import MakeToken
from keel.testing.running import eventually, ingest_all, publish
from keel.testing.samples import (
    activity_event,
    deal_event,
    managed_client_events,
    upstream_event,
)


def event(event_id: str, type_name: str, day: str, **data: Any) -> dict[str, Any]:
    return upstream_event(event_id, type_name, f"{day}T10:00:00Z", **data)


UPSTREAM = [
    *managed_client_events("2024-03-01", "2025-01-01", mrr="8000", partner_country="GB"),
    event(
        "p1-cert", "partner.certification_changed", "2024-03-01", partner_id="p-1", certified=True
    ),
    activity_event(
        "a1",
        "2025-03-02T09:00:00Z",
        source="product/blog",
        user_id="u-1",
        user_email="ana@alpha.example",
        client_id="c-1",
    ),
    deal_event(
        "d1",
        "2025-01-10T10:00:00Z",
        deal_id="d-1",
        client_domain="www.client-one.com",
        mrr_delta="1400",
    ),
]


async def test_events_posted_to_ingest_become_a_credited_tier_read_from_the_tier_engine(
    start_pipeline: StartPipeline, kafka_settings: KafkaSettings, make_token: MakeToken
) -> None:
    clock = FixedClock(datetime(2025, 4, 1, 12, tzinfo=UTC))
    admin = {"Authorization": f"Bearer {make_token(Scope.ADMIN)}"}
    reader = {"Authorization": f"Bearer {make_token(Scope.PARTNER_READ, partner_id='p-1')}"}
    registered = DomainRegisteredV1(  # what capacity publishes when p-1 registers the lead (S3)
        registration_id="r-1",
        partner_id="p-1",
        domain="client-one.com",
        company="Client One",
        country="US",
        registered_at=datetime(2025, 1, 2, tzinfo=UTC),
    )
    message = EVENTS.message(
        DOMAIN_REGISTERED, registered, id="r-1", source="capacity", time=registered.registered_at
    )
    await publish(kafka_settings, [message])
    async with start_pipeline(clock) as (ingest, _, tiers):
        await ingest_all(ingest, UPSTREAM, make_token(Scope.EVENTS_WRITE))

        async def both_tracks() -> dict[str, Any] | None:
            answer = await tiers.get(
                "/v1/partners/p-1/points-breakdown", params={"month": "2025-03"}, headers=reader
            )
            totals: dict[str, Any] = answer.json()["totals"]
            return totals if Decimal(totals["sold"]) and Decimal(totals["managed"]) else None

        totals = await eventually(both_tracks, timeout_s=40)
        # P2: $1,400 sourced in 2025 = 70 sold points; M7/P1: $8,000 managed alone = 80.
        assert (totals["sold"], totals["managed"], totals["total"]) == ("70.00", "80.00", "150.00")
        rolled = await tiers.post("/v1/rollups", json={"month": "2025-03"}, headers=admin)
        assert rolled.status_code in (200, 201), rolled.text
        tier = (
            await tiers.get("/v1/partners/p-1/tier", params={"month": "2025-03"}, headers=reader)
        ).json()
    # T1 points-2022 (derived): Gold needs 123 total and 63 sold; Platinum 313 total.
    assert (tier["tier"], tier["model"], tier["points"]["total"]) == (
        "gold",
        "points-2022",
        "150.00",
    )
