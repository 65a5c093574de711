"""From events posted to activity-ingest to the figures read from the credit-ledger API, with
every part real: PostgreSQL, Kafka, the ingest outbox relay, the ledger worker."""

from datetime import UTC, datetime
from typing import Any

from pipeline_support import StartPipeline

from keel.auth import Scope
from keel.clock import FixedClock
from keel.testing.plugin import MakeToken
from keel.testing.running import eventually, ingest_all
from keel.testing.samples import activity_event, upstream_event


def event(event_id: str, type_name: str, day: str, **data: Any) -> dict[str, Any]:
    return upstream_event(event_id, type_name, f"{day}T10:00:00Z", **data)


UPSTREAM = [
    event(
        "p1",
        "partner.registered",
        "2024-03-01",
        partner_id="p-1",
        name="Alpha",
        partner_type="solutions",
        employee_email_domain="alpha.example",
        country="GB",
    ),
    event(
        "p2",
        "partner.registered",
        "2024-03-01",
        partner_id="p-2",
        name="Beta",
        partner_type="solutions",
        employee_email_domain="beta.example",
        country="DE",
    ),
    event(
        "u1",
        "partner_user.added",
        "2024-03-01",
        partner_id="p-1",
        user_id="u-1",
        email="ana@alpha.example",
        partner_employee=True,
    ),
    event(
        "u2",
        "partner_user.added",
        "2024-03-01",
        partner_id="p-2",
        user_id="u-2",
        email="bo@beta.example",
        partner_employee=True,
    ),
    event(
        "c1",
        "client.created",
        "2024-03-01",
        client_id="c-1",
        name="Client One",
        website_domain="client-one.com",
        country="BR",
        currency="BRL",
    ),
    event(
        "s1",
        "client.subscription_changed",
        "2024-03-01",
        client_id="c-1",
        mrr="999.99",
        currency="BRL",
    ),
    event("m1", "client.user_added", "2024-03-01", client_id="c-1", user_id="u-1"),
    event("m2", "client.user_added", "2024-03-01", client_id="c-1", user_id="u-2"),
    activity_event(
        "a1",
        "2024-03-02T09:00:00Z",
        source="product/blog",
        user_id="u-1",
        user_email="ana@alpha.example",
        client_id="c-1",
    ),
    activity_event(
        "a2",
        "2024-03-03T09:00:00Z",
        source="product/email",
        user_id="u-2",
        user_email="bo@beta.example",
        client_id="c-1",
        tool="email",
        action="email.sent",
    ),
]


async def test_events_posted_to_ingest_become_managed_credit_read_from_the_ledger(
    start_pipeline: StartPipeline, make_token: MakeToken
) -> None:
    clock = FixedClock(datetime(2024, 3, 10, 12, tzinfo=UTC))
    reader = {"Authorization": f"Bearer {make_token(Scope.PARTNER_READ, partner_id='p-2')}"}
    async with start_pipeline(clock) as (ingest, ledger, _):
        await ingest_all(ingest, UPSTREAM, make_token(Scope.EVENTS_WRITE))

        async def shared() -> dict[str, Any] | None:
            answer = await ledger.get(
                "/v1/partners/p-2/managed-credit", params={"as_of": "2024-03-05"}, headers=reader
            )
            body: dict[str, Any] = answer.json()
            return body if body.get("clients") else None

        figures = await eventually(shared)

    [managed] = figures["clients"]
    # M7: 999.99 BRL split between two partners, to the centavo, the extra centavo to p-1.
    assert (managed["client_id"], managed["credit"], managed["currency"]) == (
        "c-1",
        "499.99",
        "BRL",
    )
    assert (managed["share_denominator"], managed["country"]) == (2, "BR")
    assert managed["ends_on"] == "2024-05-02"  # a2 on 03-03 + 60 days
    assert figures["totals"] == {"BRL": "499.99"}
