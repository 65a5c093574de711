"""The capacity HTTP API over a real PostgreSQL: registration, limits and uniqueness under
concurrency, expiry by the clock, deregistration, tier changes, search."""

import asyncio
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from capacity_support import Stage, tier_changed
from sqlalchemy import ColumnElement, func, select
from sqlmodel import col

from capacity.domain.policy import POLICY_DIR
from capacity.main import create_app
from capacity.tables import Registration
from keel.auth import Scope
from keel.clock import FixedClock
from keel.events.payloads.account import PartnerType
from keel.events.payloads.tier import Tier
from keel.settings import Settings
from keel.testing.plugin import MakeToken
from keel.testing.running import app_client, bearer
from keel.testing.samples import partner_registered


async def count_registrations(stage: Stage, *where: ColumnElement[bool]) -> int:
    async with stage.runtime.sessions() as session:
        found = await session.scalar(select(func.count()).where(*where))
    return int(found or 0)


async def rush(stage: Stage, registrations: list[tuple[str, str]]) -> list[httpx.Response]:
    """All the (partner, website) registrations at once."""
    return await asyncio.gather(*(stage.register(p, website) for p, website in registrations))


@pytest.mark.parametrize(
    ("website", "domain"),
    [
        ("https://WWW.Example.co.uk/pricing", "example.co.uk"),
        ("example.com:443", "example.com"),
        ("bücher.de", "xn--bcher-kva.de"),
    ],
)
async def test_c1_registers_the_registrable_domain_of_a_website(
    stage: Stage, make_token: MakeToken, website: str, domain: str
) -> None:
    token = bearer(make_token(Scope.PARTNER_WRITE, partner_id="p-1"))
    answer = await stage.register("p-1", website, headers=token)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert (body["domain"], body["website"], body["status"]) == (domain, website, "active")
    assert body["registered_at"] == stage.clock.now().isoformat().replace("+00:00", "Z")
    assert body["expires_at"] is None
    assert body["id"]


@pytest.mark.parametrize("website", ["localhost", "10.0.0.1", "co.uk", ""])
async def test_c1_garbage_is_a_422_naming_the_website(stage: Stage, website: str) -> None:
    answer = await stage.register("p-1", website)
    assert answer.status_code == 422
    body = answer.json()
    assert body["type"].endswith("/problems/validation-failed")
    assert [error["field"] for error in body["errors"]] == ["website"]
    assert (await stage.capacity("p-1"))["used"] == 0


async def test_c2_at_the_limit_a_registration_is_refused_naming_limit_and_usage(
    stage: Stage,
) -> None:
    await stage.register_many("p-1", 50)
    answer = await stage.register("p-1", "one-too-many.com")
    assert answer.status_code == 409
    problem = answer.json()
    assert problem["type"].endswith("/problems/capacity-exceeded")
    assert (problem["limit"], problem["used"]) == (50, 50)
    assert answer.headers["content-type"] == "application/problem+json"
    summary = await stage.capacity("p-1")
    assert (summary["tier"], summary["partner_type"], summary["limit"]) == (None, "solutions", 50)
    assert (summary["used"], summary["available"], summary["over_limit"]) == (50, 0, False)


async def test_c2_concurrent_registrations_never_push_a_partner_over_its_limit(
    stage: Stage,
) -> None:
    answers = await rush(stage, [("p-1", f"rush-{n}.com") for n in range(250)])
    assert Counter(answer.status_code for answer in answers) == {201: 50, 409: 200}
    assert all(
        answer.json()["type"].endswith("/problems/capacity-exceeded")
        for answer in answers
        if answer.status_code == 409
    )
    active = col(Registration.partner_id) == "p-1", col(Registration.status) == "active"
    assert await count_registrations(stage, *active) == 50


async def test_c3_one_active_registration_per_domain_across_partners_under_concurrency(
    stage: Stage,
) -> None:
    answers = await rush(stage, [(f"p-{n}", "https://www.contested.com") for n in range(40)])
    assert Counter(answer.status_code for answer in answers) == {201: 1, 409: 39}
    [winner] = [a.json()["partner_id"] for a in answers if a.status_code == 201]
    for refused in (a.json() for a in answers if a.status_code == 409):
        assert refused["type"].endswith("/problems/domain-unavailable")
        assert winner not in refused["detail"]  # never says who holds it
    assert await count_registrations(stage, col(Registration.domain) == "contested.com") == 1


async def test_c3_a_reserved_domain_and_a_domain_already_held_are_unavailable(
    stage: Stage,
) -> None:
    reserved = await stage.register("p-1", "https://www.vendor-example.com/")
    assert reserved.status_code == 409
    assert reserved.json()["type"].endswith("/problems/domain-unavailable")
    assert (await stage.register("p-1", "lead.com")).status_code == 201
    by_other = await stage.register("p-2", "http://WWW.LEAD.COM/about")
    again = await stage.register("p-1", "lead.com")
    assert (by_other.status_code, again.status_code) == (409, 409)
    assert by_other.json()["detail"] == again.json()["detail"]
    assert "p-1" not in by_other.json()["detail"]
    assert (await stage.capacity("p-1"))["used"] == 1


async def test_c4_referral_registrations_expire_after_90_days_and_free_capacity_before_any_sweep(
    stage: Stage,
) -> None:
    start = stage.clock.now()
    await stage.apply(partner_registered("p-r", start, partner_type=PartnerType.REFERRAL))
    await stage.register_many("p-r", 25)
    full = await stage.register("p-r", "late.com")
    assert (full.status_code, full.json()["limit"]) == (409, 25)
    listed = await stage.registrations("p-r")
    assert {item["expires_at"] for item in listed.json()["items"]} == {
        (start + timedelta(days=90)).isoformat().replace("+00:00", "Z")
    }

    stage.clock.advance(timedelta(days=90) - timedelta(seconds=1))
    assert (await stage.capacity("p-r"))["used"] == 25
    stage.clock.advance(timedelta(seconds=1))
    assert (await stage.capacity("p-r"))["used"] == 0
    expired = await stage.registrations("p-r", status="expired")
    assert expired.json()["total"] == 25
    assert {item["status"] for item in expired.json()["items"]} == {"expired"}
    # The domain is free for anyone, the expired registration ended at its expiry.
    taken = await stage.register("p-other", "lead-0.com")
    assert taken.status_code == 201, taken.text
    holder = await stage.holder("lead-0.com")
    assert (holder.json()["partner_id"], holder.json()["status"]) == ("p-other", "active")
    assert (await stage.register("p-r", "late.com")).status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"domains": ["lead-0.com"]}, "confirm", id="unconfirmed"),
        pytest.param({"domains": ["lead-0.com"], "confirm": False}, "confirm", id="confirm-false"),
        pytest.param(
            {"domains": ["lead-0.com", "localhost"], "confirm": True}, "domains[1]", id="no-domain"
        ),
    ],
)
async def test_c5_a_bad_deregistration_is_a_422_naming_the_field_and_changes_nothing(
    stage: Stage, body: dict[str, Any], field: str
) -> None:
    """Without confirmation, or with a domain that is no domain (named by its place)."""
    await stage.register_many("p-1", 2)
    answer = await stage.deregister("p-1", body)
    assert answer.status_code == 422
    assert [error["field"] for error in answer.json()["errors"]] == [field]
    assert (await stage.capacity("p-1"))["used"] == 2


async def test_c5_deregistration_frees_capacity_at_once_and_says_what_was_not_found(
    stage: Stage,
) -> None:
    await stage.register_many("p-1", 50)
    await stage.register("p-2", "others.com")
    answer = await stage.deregister_confirmed(
        "p-1",
        ["https://WWW.Lead-3.com/x", "lead-7.com", "lead-7.com:80", "others.com", "never.com"],
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [(r["domain"], r["status"]) for r in body["deregistered"]] == [
        ("lead-3.com", "deregistered"),
        ("lead-7.com", "deregistered"),
    ]
    assert body["not_found"] == ["others.com", "never.com"]
    assert (await stage.capacity("p-1"))["used"] == 48
    assert (await stage.register("p-1", "fresh.com")).status_code == 201
    # The freed domain is free for anyone; the other partner's domain was untouched.
    assert (await stage.register("p-3", "lead-3.com")).status_code == 201
    assert (await stage.capacity("p-2"))["used"] == 1


async def test_c6_a_tier_drop_below_usage_keeps_registrations_and_refuses_new_ones(
    stage: Stage,
) -> None:
    now = stage.clock.now()
    await stage.apply(tier_changed("p-1", Tier.GOLD, "2026-02", now))
    await stage.register_many("p-1", 60)
    assert (await stage.capacity("p-1"))["limit"] == 500

    await stage.apply(tier_changed("p-1", Tier.PARTNER, "2026-03", now))
    summary = await stage.capacity("p-1")
    assert (summary["tier"], summary["limit"], summary["used"]) == ("partner", 50, 60)
    assert (summary["available"], summary["over_limit"]) == (0, True)
    refused = await stage.register("p-1", "new.com")
    assert (refused.status_code, refused.json()["limit"], refused.json()["used"]) == (409, 50, 60)

    freed = await stage.deregister_confirmed("p-1", [f"lead-{n}.com" for n in range(11)])
    assert len(freed.json()["deregistered"]) == 11
    assert (await stage.capacity("p-1"))["over_limit"] is False
    assert (await stage.register("p-1", "new.com")).status_code == 201


async def test_c6_only_the_latest_month_and_revision_sets_the_tier(stage: Stage) -> None:
    now = stage.clock.now()
    await stage.apply(
        tier_changed("p-1", Tier.GOLD, "2026-03", now),
        tier_changed("p-1", Tier.DIAMOND, "2026-02", now),  # an older month arriving late
        tier_changed("p-1", Tier.PLATINUM, "2026-03", now, revision=1),
    )
    assert (await stage.capacity("p-1"))["tier"] == "gold"
    await stage.apply(tier_changed("p-1", Tier.ELITE, "2026-03", now, revision=2))
    summary = await stage.capacity("p-1")
    assert (summary["tier"], summary["limit"]) == ("elite", 1000)
    await stage.apply(tier_changed("p-9", None, "2026-03", now, partner_type=PartnerType.PROVIDER))
    summary = await stage.capacity("p-9")
    assert (summary["tier"], summary["partner_type"], summary["limit"]) == (None, "provider", 50)


async def test_c7_registrations_are_searched_sorted_and_paged(stage: Stage) -> None:
    leads = [
        ("alpha.com", "Zeta Corp", "Bob Brown", "US"),
        ("beta.de", "Yellow GmbH", "anna schmidt", "DE"),
        ("gamma.fr", "Xylo SARL", "Claire Dubois", "FR"),
        ("delta.co.uk", "Schmidt & Sons", "Dan Evans", "GB"),
    ]
    for website, company, contact, country in leads:
        stage.clock.advance(timedelta(minutes=1))
        answer = await stage.register(
            "p-1", website, company=company, contact_name=contact, country=country
        )
        assert answer.status_code == 201, answer.text
    await stage.register("p-2", "schmidt-other.com")

    async def domains(**params: Any) -> tuple[list[str], int]:
        answer = await stage.registrations("p-1", **params)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        return [item["domain"] for item in body["items"]], body["total"]

    assert await domains() == (["alpha.com", "beta.de", "gamma.fr", "delta.co.uk"], 4)
    assert await domains(q="SCHMIDT", sort="domain") == (["beta.de", "delta.co.uk"], 2)
    assert await domains(q="fr") == (["gamma.fr"], 1)
    assert await domains(q="de", sort="country") == (["beta.de", "delta.co.uk"], 2)
    assert await domains(sort="company") == (["delta.co.uk", "gamma.fr", "beta.de", "alpha.com"], 4)
    assert await domains(sort="contact_name", order="desc") == (
        ["delta.co.uk", "gamma.fr", "alpha.com", "beta.de"],
        4,
    )
    assert await domains(sort="domain", page=2, page_size=3) == (["gamma.fr"], 4)
    assert await domains(q="100%_") == ([], 0)
    bad = await stage.registrations("p-1", sort="website")
    assert bad.status_code == 422
    assert [error["field"] for error in bad.json()["errors"]] == ["sort"]


async def test_a_partner_token_acts_only_on_its_own_partner(
    stage: Stage, make_token: MakeToken
) -> None:
    writer = bearer(make_token(Scope.PARTNER_WRITE, partner_id="p-1"))
    reader = bearer(make_token(Scope.PARTNER_READ, partner_id="p-1"))
    assert (await stage.register("p-2", "lead.com", headers=writer)).status_code == 403
    assert (await stage.register("p-1", "lead.com", headers=reader)).status_code == 403
    assert (await stage.api.get("/v1/partners/p-2/capacity", headers=reader)).status_code == 403
    assert (await stage.api.get("/v1/partners/p-1/capacity", headers=reader)).status_code == 200
    lookup = await stage.api.get("/v1/domains/lead.com/registration", headers=writer)
    assert lookup.status_code == 403
    assert (await stage.api.get("/v1/partners/p-1/capacity")).status_code == 401


async def test_an_admin_finds_who_holds_a_domain_and_since_when(stage: Stage) -> None:
    registered = (await stage.register("p-1", "lead.com")).json()
    found = await stage.holder("https://www.LEAD.com")
    assert found.status_code == 404  # a path cannot carry a URL; a domain it can
    found = await stage.holder("WWW.Lead.com")
    body = found.json()
    assert (body["partner_id"], body["status"], body["registered_at"]) == (
        "p-1",
        "active",
        registered["registered_at"],
    )
    stage.clock.advance(timedelta(days=1))
    await stage.deregister_confirmed("p-1", ["lead.com"])
    ended = (await stage.holder("lead.com")).json()
    assert (ended["status"], ended["ended_at"]) == (
        "deregistered",
        stage.clock.now().isoformat().replace("+00:00", "Z"),
    )
    none = await stage.holder("nobody.com")
    assert none.status_code == 404
    assert none.json()["type"].endswith("/problems/not-found")
    garbage = await stage.holder("localhost")
    assert garbage.status_code == 422
    assert [error["field"] for error in garbage.json()["errors"]] == ["domain"]


async def test_c2_policies_are_served(
    capacity_api: httpx.AsyncClient, make_token: MakeToken
) -> None:
    answer = await capacity_api.get(
        "/v1/policies", headers=bearer(make_token(Scope.PARTNER_READ, partner_id="p-1"))
    )
    [version] = answer.json()["capacity"]
    assert version["tier_limits"] == {
        "partner": 50,
        "silver": 500,
        "gold": 500,
        "platinum": 500,
        "diamond": 1000,
        "elite": 1000,
    }
    assert version["partner_type_limits"] == {"referral": 25}
    assert version["expiry_days"] == {"referral": 90}
    assert "vendor-example.com" in version["reserved_domains"]


async def test_c2_policies_come_from_service_policy_dir_when_set(
    capacity_settings: Settings,
    capacity_clock: FixedClock,
    make_token: MakeToken,
    tmp_path: Path,
) -> None:
    """The Kubernetes ConfigMap path: ops change a limit without a new image."""
    shipped = (POLICY_DIR / "capacity.toml").read_text()
    (tmp_path / "capacity.toml").write_text(shipped.replace("partner = 50", "partner = 75"))
    settings = capacity_settings.model_copy(
        update={"service": capacity_settings.service.model_copy(update={"policy_dir": tmp_path})}
    )
    async with app_client(create_app(settings, capacity_clock)) as api:
        answer = await api.get(
            "/v1/policies", headers=bearer(make_token(Scope.PARTNER_READ, partner_id="p-1"))
        )
    assert answer.json()["capacity"][0]["tier_limits"]["partner"] == 75


async def test_c2_a_partner_id_that_is_no_identifier_is_a_422_naming_it(stage: Stage) -> None:
    """Every registration announces its partner id, which must be an identifier."""
    answer = await stage.register("\xa0", "lead.com")
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == ["partner_id"]
