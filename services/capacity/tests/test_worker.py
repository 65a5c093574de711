"""The capacity worker over real PostgreSQL and Kafka: tier and partner facts in from their
topics, registration events out through the outbox, and the expiry sweep."""

from datetime import timedelta
from typing import Any

import httpx
from capacity_support import REGISTRATIONS, lead, partner_registered, tier_changed

from capacity.worker import build_worker
from keel.auth import Scope
from keel.clock import FixedClock
from keel.events import topics
from keel.events.catalogue import EVENTS
from keel.events.envelope import CloudEvent
from keel.events.payloads.account import PartnerType
from keel.events.payloads.tier import Tier
from keel.runtime import Runtime
from keel.settings import Settings
from keel.testing.plugin import MakeToken
from keel.testing.running import bearer, eventually, publish, read_topic, running


def events(records: list[Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(key, type, payload) of each record, payload as parsed by the catalogue."""
    found = []
    for record in records:
        event = EVENTS.parse(CloudEvent.from_json(record.value))
        found.append((record.key.decode(), event.envelope.type, event.payload.model_dump()))
    return found


async def test_c6_a_tier_changed_event_on_the_tier_topic_moves_the_limit_through_the_worker(
    capacity_settings: Settings,
    capacity_api: httpx.AsyncClient,
    capacity_clock: FixedClock,
    make_token: MakeToken,
) -> None:
    admin = bearer(make_token(Scope.ADMIN))
    now = capacity_clock.now()

    async def limit_is(expected: int) -> bool:
        answer = await capacity_api.get("/v1/partners/p-1/capacity", headers=admin)
        return bool(answer.json()["limit"] == expected)

    assert await limit_is(50)  # untiered until a tier event arrives
    await publish(
        capacity_settings.kafka,
        [
            tier_changed("p-1", Tier.DIAMOND, "2026-02", now),
            tier_changed("p-2", Tier.GOLD, "2026-02", now),
        ],
    )
    async with running(build_worker(Runtime.create(capacity_settings, capacity_clock))):
        await eventually(lambda: limit_is(1000))
        # A month later the tier drops; an older month arriving after it changes nothing (C6).
        await publish(
            capacity_settings.kafka,
            [
                tier_changed("p-1", Tier.SILVER, "2026-03", now),
                tier_changed("p-1", Tier.ELITE, "2026-01", now),
            ],
        )
        await eventually(lambda: limit_is(500))
    summary = (await capacity_api.get("/v1/partners/p-1/capacity", headers=admin)).json()
    assert (summary["tier"], summary["limit"]) == ("silver", 500)


async def test_c2_a_referral_partner_registered_on_the_account_topic_gets_25(
    capacity_settings: Settings,
    capacity_api: httpx.AsyncClient,
    capacity_clock: FixedClock,
    make_token: MakeToken,
) -> None:
    admin = bearer(make_token(Scope.ADMIN))

    async def referral() -> bool:
        answer = await capacity_api.get("/v1/partners/p-r/capacity", headers=admin)
        return bool(answer.json()["partner_type"] == "referral")

    message = partner_registered("p-r", PartnerType.REFERRAL, capacity_clock.now())
    await publish(capacity_settings.kafka, [message])
    async with running(build_worker(Runtime.create(capacity_settings, capacity_clock))):
        await eventually(referral)
    answer = await capacity_api.get("/v1/partners/p-r/capacity", headers=admin)
    assert answer.json()["limit"] == 25


async def test_c1_registering_and_deregistering_publish_on_the_capacity_topic_via_the_outbox(
    capacity_settings: Settings,
    capacity_api: httpx.AsyncClient,
    capacity_clock: FixedClock,
    make_token: MakeToken,
) -> None:
    admin = bearer(make_token(Scope.ADMIN))
    registered = await capacity_api.post(
        REGISTRATIONS.format("p-1"), json=lead("https://www.Lead.com/x"), headers=admin
    )
    assert registered.status_code == 201
    capacity_clock.advance(timedelta(days=3))
    await capacity_api.post(
        f"{REGISTRATIONS.format('p-1')}/deregister",
        json={"domains": ["lead.com"], "confirm": True},
        headers=admin,
    )
    async with running(build_worker(Runtime.create(capacity_settings, capacity_clock))):
        records = await read_topic(capacity_settings.kafka, topics.CAPACITY.name, 2)
    (key, kind, payload), (end_key, end_kind, ended) = events(records)
    registration_id = registered.json()["id"]
    assert (key, kind) == ("p-1", "domain.registered")
    assert (payload["registration_id"], payload["domain"], payload["company"]) == (
        registration_id,
        "lead.com",
        "Bäckerei Schmidt GmbH",
    )
    assert payload["expires_at"] is None
    assert (end_key, end_kind, ended["domain"]) == ("p-1", "domain.deregistered", "lead.com")
    assert ended["ended_at"] == capacity_clock.now()


async def test_c4_the_sweep_expires_due_referral_registrations_and_publishes_domain_expired(
    capacity_settings: Settings,
    capacity_api: httpx.AsyncClient,
    capacity_clock: FixedClock,
    make_token: MakeToken,
) -> None:
    admin = bearer(make_token(Scope.ADMIN))
    start = capacity_clock.now()
    await publish(capacity_settings.kafka, [partner_registered("p-r", PartnerType.REFERRAL, start)])
    async with running(build_worker(Runtime.create(capacity_settings, capacity_clock))):

        async def referral() -> bool:
            answer = await capacity_api.get("/v1/partners/p-r/capacity", headers=admin)
            return bool(answer.json()["limit"] == 25)

        await eventually(referral)
    for website in ("early.com", "other.com"):
        answer = await capacity_api.post(
            REGISTRATIONS.format("p-r"), json=lead(website), headers=admin
        )
        assert answer.json()["expires_at"] is not None
    capacity_clock.advance(timedelta(days=90, seconds=1))
    # The sweep runs once when the worker starts, then every minute (C4), with the clock passed in.
    async with running(build_worker(Runtime.create(capacity_settings, capacity_clock))):
        records = await read_topic(capacity_settings.kafka, topics.CAPACITY.name, 4)
    published = events(records)
    expired = sorted(p["domain"] for _, kind, p in published if kind == "domain.expired")
    assert expired == ["early.com", "other.com"]
    assert {p["ended_at"] for _, kind, p in published if kind == "domain.expired"} == {
        start + timedelta(days=90)
    }
    listed = await capacity_api.get(
        REGISTRATIONS.format("p-r"), params={"status": "expired"}, headers=admin
    )
    assert listed.json()["total"] == 2
