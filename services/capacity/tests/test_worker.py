"""The capacity worker over real PostgreSQL and Kafka: tier and partner facts in from their
topics, registration events out through the outbox, and the expiry sweep."""

from datetime import timedelta

from capacity_support import Stage, tier_changed

from keel.events.payloads.account import PartnerType
from keel.events.payloads.tier import Tier
from keel.testing.running import eventually
from keel.testing.samples import partner_registered


async def test_c6_a_tier_changed_event_on_the_tier_topic_moves_the_limit_through_the_worker(
    stage: Stage,
) -> None:
    now = stage.clock.now()

    async def limit_is(expected: int) -> bool:
        return bool((await stage.capacity("p-1"))["limit"] == expected)

    assert await limit_is(50)  # untiered until a tier event arrives
    await stage.publish(
        [
            tier_changed("p-1", Tier.DIAMOND, "2026-02", now),
            tier_changed("p-2", Tier.GOLD, "2026-02", now),
        ]
    )
    async with stage.worker():
        await eventually(lambda: limit_is(1000))
        # A month later the tier drops; an older month arriving after it changes nothing (C6).
        await stage.publish(
            [
                tier_changed("p-1", Tier.SILVER, "2026-03", now),
                tier_changed("p-1", Tier.ELITE, "2026-01", now),
            ]
        )
        await eventually(lambda: limit_is(500))
    summary = await stage.capacity("p-1")
    assert (summary["tier"], summary["limit"]) == ("silver", 500)


async def test_c2_a_referral_partner_registered_on_the_account_topic_gets_25(
    stage: Stage,
) -> None:
    async def referral() -> bool:
        return bool((await stage.capacity("p-r"))["partner_type"] == "referral")

    await stage.publish(
        [partner_registered("p-r", stage.clock.now(), partner_type=PartnerType.REFERRAL)]
    )
    async with stage.worker():
        await eventually(referral)
    assert (await stage.capacity("p-r"))["limit"] == 25


async def test_c1_registering_and_deregistering_publish_on_the_capacity_topic_via_the_outbox(
    stage: Stage,
) -> None:
    registered = await stage.register("p-1", "https://www.Lead.com/x")
    assert registered.status_code == 201
    stage.clock.advance(timedelta(days=3))
    await stage.deregister_confirmed("p-1", ["lead.com"])
    async with stage.worker():
        (key, kind, payload), (end_key, end_kind, ended) = await stage.announced(2)
    registration_id = registered.json()["id"]
    assert (key, kind) == ("p-1", "domain.registered")
    assert (payload["registration_id"], payload["domain"], payload["company"]) == (
        registration_id,
        "lead.com",
        "Bäckerei Schmidt GmbH",
    )
    assert payload["expires_at"] is None
    assert (end_key, end_kind, ended["domain"]) == ("p-1", "domain.deregistered", "lead.com")
    assert ended["ended_at"] == stage.clock.now()


async def test_c4_the_sweep_expires_due_referral_registrations_and_publishes_domain_expired(
    stage: Stage,
) -> None:
    start = stage.clock.now()
    await stage.publish([partner_registered("p-r", start, partner_type=PartnerType.REFERRAL)])
    async with stage.worker():

        async def referral() -> bool:
            return bool((await stage.capacity("p-r"))["limit"] == 25)

        await eventually(referral)
    for website in ("early.com", "other.com"):
        answer = await stage.register("p-r", website)
        assert answer.json()["expires_at"] is not None
    stage.clock.advance(timedelta(days=90, seconds=1))
    # The sweep runs once when the worker starts, then every minute (C4), with the clock passed in.
    async with stage.worker():
        published = await stage.announced(4)
    expired = sorted(p["domain"] for _, kind, p in published if kind == "domain.expired")
    assert expired == ["early.com", "other.com"]
    assert {p["ended_at"] for _, kind, p in published if kind == "domain.expired"} == {
        start + timedelta(days=90)
    }
    listed = await stage.registrations("p-r", status="expired")
    assert listed.json()["total"] == 2
