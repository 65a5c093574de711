"""The credit-ledger HTTP API over a real PostgreSQL: figures, explanations, access actions."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from ledger_story import at
from ledger_support import (
    activity,
    apply_directly,
    client,
    employee,
    member,
    partner,
    subscription,
)

from credit_ledger.main import create_app
from keel.auth import Scope
from keel.clock import FixedClock
from keel.kafka.publisher import Message
from keel.runtime import Runtime
from keel.settings import Settings
from keel.testing.plugin import MakeToken
from keel.testing.running import app_client, bearer

ANA, BO = "ana@alpha.example", "bo@beta.example"


def world() -> list[Message]:
    when = at("2024-01-01")
    return [
        partner("p-1", "alpha.example", when),
        partner("p-2", "beta.example", when),
        employee("p-1", "u-1", ANA, when),
        employee("p-2", "u-2", BO, when),
        client("c-1", when, country="IN"),
        subscription("c-1", "1000.00", when),
        member("c-1", "u-1", when),
        member("c-1", "u-2", when),
        activity("c-1", "u-1", ANA, "blog.post_published", at("2024-01-02"), "act-1"),
        activity("c-1", "u-2", BO, "login.succeeded", at("2024-01-03"), "login-1"),
        client("c-2", when),
        subscription("c-2", "300.00", when),
        member("c-2", "u-1", when),
        activity("c-2", "u-1", ANA, "email.sent", at("2024-01-20"), "act-2"),
    ]


@pytest.fixture
async def ledger(ledger_settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, FixedClock]]:
    clock = FixedClock(datetime(2024, 2, 1, 9, tzinfo=UTC))
    runtime = Runtime.create(ledger_settings, clock)
    await apply_directly(runtime.sessions, clock, world())
    await runtime.close()
    async with app_client(create_app(ledger_settings, clock)) as api:
        yield api, clock


async def test_m8_attribution_explains_who_manages_and_who_does_not(
    ledger: tuple[httpx.AsyncClient, FixedClock], make_token: MakeToken
) -> None:
    api, _ = ledger
    answer = await api.get(
        "/v1/clients/c-1/attribution",
        params={"as_of": "2024-01-10"},
        headers=bearer(make_token(Scope.ADMIN)),
    )
    assert answer.status_code == 200
    body = answer.json()
    assert (body["mrr"], body["currency"], body["country"]) == ("1000.00", "USD", "IN")
    assert body["window"]["days"] == 60
    [managing] = body["managing"]
    assert (managing["partner_id"], managing["share"], managing["credit"]) == (
        "p-1",
        "1/1",
        "1000.00",
    )
    assert managing["activities"] == [
        {
            "event_id": "act-1",
            "user_id": "u-1",
            "action": "blog.post_published",
            "occurred_at": "2024-01-02T12:00:00Z",
            "expires_on": "2024-03-02",
        }
    ]
    [other] = body["not_managing"]
    assert other["partner_id"] == "p-2"
    assert "no qualifying activity" in other["reasons"][0]  # a login never counts (M3)


async def test_attribution_is_for_admins(
    ledger: tuple[httpx.AsyncClient, FixedClock], make_token: MakeToken
) -> None:
    api, _ = ledger
    token = make_token(Scope.PARTNER_READ, partner_id="p-1")
    assert (await api.get("/v1/clients/c-1/attribution", headers=bearer(token))).status_code == 403


async def test_a_partner_reads_its_managed_credit_with_totals_and_expiry(
    ledger: tuple[httpx.AsyncClient, FixedClock], make_token: MakeToken
) -> None:
    api, _ = ledger
    token = make_token(Scope.PARTNER_READ, partner_id="p-1")
    answer = await api.get(
        "/v1/partners/p-1/managed-credit", params={"as_of": "2024-01-25"}, headers=bearer(token)
    )
    body = answer.json()
    assert [(c["client_id"], c["credit"], c["ends_on"]) for c in body["clients"]] == [
        ("c-1", "1000.00", "2024-03-02"),
        ("c-2", "300.00", "2024-03-20"),
    ]
    assert body["totals"] == {"USD": "1300.00"}
    other = await api.get("/v1/partners/p-2/managed-credit", headers=bearer(token))
    assert other.status_code == 403


async def test_m6_expiring_lists_the_credit_at_risk_within_n_days(
    ledger: tuple[httpx.AsyncClient, FixedClock], make_token: MakeToken
) -> None:
    api, _ = ledger
    answer = await api.get(
        "/v1/partners/p-1/expiring",
        params={"as_of": "2024-02-20", "within_days": 15},
        headers=bearer(make_token(Scope.ADMIN)),
    )
    body = answer.json()
    assert [(c["client_id"], c["ends_on"], c["credit_at_risk"]) for c in body["clients"]] == [
        ("c-1", "2024-03-02", "1000.00")
    ]
    assert body["at_risk"] == {"USD": "1000.00"}


async def test_m8_the_ledger_pages_and_answers_as_known_at_a_time(
    ledger: tuple[httpx.AsyncClient, FixedClock], make_token: MakeToken, ledger_settings: Settings
) -> None:
    api, clock = ledger
    headers = bearer(make_token(Scope.ADMIN))
    first_page = (
        await api.get("/v1/partners/p-1/ledger", params={"page_size": 1}, headers=headers)
    ).json()
    assert len(first_page["entries"]) == 1
    second = await api.get(
        "/v1/partners/p-1/ledger",
        params={"page_size": 100, "after": first_page["next_after"]},
        headers=headers,
    )
    assert second.json()["entries"][0]["id"] > first_page["entries"][0]["id"]
    before = clock.now()
    clock.advance(timedelta(days=1))
    # A late activity on 2024-01-01 for c-2: credit started earlier than was known.
    runtime = Runtime.create(ledger_settings, clock)
    await apply_directly(
        runtime.sessions, clock, [activity("c-2", "u-1", ANA, "email.sent", at("2024-01-01"))]
    )
    await runtime.close()
    then = await api.get(
        "/v1/partners/p-1/ledger", params={"known_at": before.isoformat()}, headers=headers
    )
    now = await api.get("/v1/partners/p-1/ledger", headers=headers)
    assert len(now.json()["entries"]) > len(then.json()["entries"])
    managed_then = {
        e["client_id"]: e["effective_on"] for e in then.json()["entries"] if e["rule"] == "M1"
    }
    assert managed_then["c-2"] == "2024-01-20"
    correction = [
        e
        for e in now.json()["entries"]
        if e["recorded_at"] > before.isoformat().replace("+00:00", "Z")
    ]
    assert ("c-2", "2024-01-01", "300.00") in {
        (e["client_id"], e["effective_on"], e["amount"]) for e in correction
    }


async def test_m5_removing_access_needs_the_word_remove_and_ends_credit_that_day(
    ledger: tuple[httpx.AsyncClient, FixedClock], make_token: MakeToken
) -> None:
    api, _ = ledger
    writer = bearer(make_token(Scope.PARTNER_WRITE, partner_id="p-1"))
    path = "/v1/partners/p-1/users/u-1/clients/c-1/remove-access"
    refused = await api.post(path, json={"confirm": "remove"}, headers=writer)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "confirm"
    unchanged = await api.get(
        "/v1/partners/p-1/managed-credit", params={"as_of": "2024-02-01"}, headers=writer
    )
    assert [c["client_id"] for c in unchanged.json()["clients"]] == ["c-1", "c-2"]

    done = await api.post(path, json={"confirm": "REMOVE"}, headers=writer)
    assert done.status_code == 200
    after = await api.get(
        "/v1/partners/p-1/managed-credit", params={"as_of": "2024-02-01"}, headers=writer
    )
    assert [c["client_id"] for c in after.json()["clients"]] == ["c-2"]
    before = await api.get(
        "/v1/partners/p-1/managed-credit", params={"as_of": "2024-01-31"}, headers=writer
    )
    assert [c["client_id"] for c in before.json()["clients"]] == ["c-1", "c-2"]


async def test_a_partner_cannot_act_for_another_partner(
    ledger: tuple[httpx.AsyncClient, FixedClock], make_token: MakeToken
) -> None:
    api, _ = ledger
    writer = bearer(make_token(Scope.PARTNER_WRITE, partner_id="p-2"))
    answer = await api.post("/v1/partners/p-1/clients/c-1/end-services", headers=writer)
    assert answer.status_code == 403


async def test_m5_m4_ending_services_stops_credit_and_a_manual_link_shows_in_employees(
    ledger: tuple[httpx.AsyncClient, FixedClock], make_token: MakeToken
) -> None:
    api, _ = ledger
    admin = bearer(make_token(Scope.ADMIN))
    ended = await api.post("/v1/partners/p-1/clients/c-2/end-services", headers=admin)
    assert ended.status_code == 200
    figures = await api.get(
        "/v1/partners/p-1/managed-credit", params={"as_of": "2024-02-01"}, headers=admin
    )
    assert [c["client_id"] for c in figures.json()["clients"]] == ["c-1"]
    linked = await api.post("/v1/partners/p-2/users/u-2/clients/c-2/link", headers=admin)
    assert linked.status_code == 201
    staff = (await api.get("/v1/partners/p-2/employees", headers=admin)).json()["employees"]
    assert [(e["user_id"], e["status"], e["linked_clients"]) for e in staff] == [
        ("u-2", "active", ["c-2"])
    ]
    by_client = {c["client_id"]: c for c in staff[0]["clients"]}
    assert (by_client["c-2"]["assignment"], by_client["c-2"]["member"]) == ("manual", False)


async def test_m4_employees_lists_the_clients_assigned_automatically_with_the_last_activity(
    ledger: tuple[httpx.AsyncClient, FixedClock], make_token: MakeToken
) -> None:
    api, _ = ledger
    reader = bearer(make_token(Scope.PARTNER_READ, partner_id="p-1"))
    answer = await api.get(
        "/v1/partners/p-1/employees", params={"as_of": "2024-02-01"}, headers=reader
    )
    assert answer.status_code == 200, answer.text
    [ana] = answer.json()["employees"]
    assert ana["linked_clients"] == []
    assert [
        (c["client_id"], c["assignment"], c["member"], c["access_removed"], c["qualifies"])
        for c in ana["clients"]
    ] == [("c-1", "automatic", True, False, True), ("c-2", "automatic", True, False, True)]
    assert ana["clients"][1]["last_qualifying_activity_at"] == "2024-01-20T12:00:00Z"


async def test_d3_partner_scoped_attribution_shows_its_share_and_users_never_the_others(
    ledger: tuple[httpx.AsyncClient, FixedClock], make_token: MakeToken
) -> None:
    api, _ = ledger
    reader = bearer(make_token(Scope.PARTNER_READ, partner_id="p-1"))
    answer = await api.get(
        "/v1/partners/p-1/clients/c-1/attribution", params={"as_of": "2024-02-01"}, headers=reader
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["manages"], body["share"], body["share_denominator"]) == (True, "1/1", 1)
    assert [u["user_id"] for u in body["users"]] == ["u-1"]
    assert [s["passed"] for s in body["users"][0]["steps"]] == [True, True, True, True]
    assert "p-2" not in answer.text
    assert "u-2" not in answer.text


async def test_d3_a_login_fails_step_four_with_m3_for_the_partner_that_only_logged_in(
    ledger: tuple[httpx.AsyncClient, FixedClock], make_token: MakeToken
) -> None:
    api, _ = ledger
    reader = bearer(make_token(Scope.PARTNER_READ, partner_id="p-2"))
    answer = await api.get(
        "/v1/partners/p-2/clients/c-1/attribution", params={"as_of": "2024-02-01"}, headers=reader
    )
    body = answer.json()
    assert (body["manages"], body["share"], body["share_denominator"]) == (False, None, 1)
    steps = body["users"][0]["steps"]
    assert [s["passed"] for s in steps] == [True, True, True, False]
    assert steps[3]["rule"] == "M3"
    assert "login.succeeded" in steps[3]["evidence"]
    assert "p-1" not in answer.text
    assert "u-1" not in answer.text


async def test_partner_scoped_attribution_is_404_for_a_client_the_partner_has_no_users_in(
    ledger: tuple[httpx.AsyncClient, FixedClock], make_token: MakeToken
) -> None:
    api, _ = ledger
    reader = bearer(make_token(Scope.PARTNER_READ, partner_id="p-2"))
    answer = await api.get("/v1/partners/p-2/clients/c-2/attribution", headers=reader)
    assert answer.status_code == 404


async def test_partner_scoped_attribution_of_another_partner_is_403(
    ledger: tuple[httpx.AsyncClient, FixedClock], make_token: MakeToken
) -> None:
    api, _ = ledger
    reader = bearer(make_token(Scope.PARTNER_READ, partner_id="p-2"))
    answer = await api.get("/v1/partners/p-1/clients/c-1/attribution", headers=reader)
    assert answer.status_code == 403


async def test_acting_on_a_user_of_another_partner_is_a_404(
    ledger: tuple[httpx.AsyncClient, FixedClock], make_token: MakeToken
) -> None:
    api, _ = ledger
    answer = await api.post(
        "/v1/partners/p-1/users/u-2/clients/c-1/link", headers=bearer(make_token(Scope.ADMIN))
    )
    assert answer.status_code == 404


async def test_policies_are_readable(
    ledger: tuple[httpx.AsyncClient, FixedClock], make_token: MakeToken
) -> None:
    api, _ = ledger
    body = (
        await api.get(
            "/v1/policies", headers=bearer(make_token(Scope.PARTNER_READ, partner_id="p-1"))
        )
    ).json()
    assert [(w["effective_from"], w["days"]) for w in body["windows"]] == [
        ("2018-01-01", 90),
        ("2023-06-28", 60),
    ]
    assert "blog.post_published" in body["qualifying_actions"][0]["tools"]["blog"]


async def test_acting_on_an_unknown_client_is_a_404(
    ledger: tuple[httpx.AsyncClient, FixedClock], make_token: MakeToken
) -> None:
    api, _ = ledger
    writer = bearer(make_token(Scope.PARTNER_WRITE, partner_id="p-1"))
    answer = await api.post("/v1/partners/p-1/clients/c-404/end-services", headers=writer)
    assert answer.status_code == 404


async def test_issue_12_point_3_attribution_before_the_first_policy_is_422_naming_as_of(
    ledger: tuple[httpx.AsyncClient, FixedClock], make_token: MakeToken
) -> None:
    api, _ = ledger
    answer = await api.get(
        "/v1/clients/c-1/attribution",
        params={"as_of": "2017-12-31"},
        headers=bearer(make_token(Scope.ADMIN)),
    )
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["errors"][0]["field"] == "as_of"
    assert problem["first_evaluable_day"] == "2018-01-01"
