"""The credit-ledger HTTP API over a real PostgreSQL: figures, explanations, access actions."""

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

import httpx
import ledger_support as upstream
import pytest
from ledger_story import at
from ledger_support import apply_directly

from credit_ledger.main import create_app
from keel.auth import Scope
from keel.clock import FixedClock
from keel.kafka.publisher import Message
from keel.runtime import Runtime
from keel.settings import Settings
from keel.testing.plugin import MakeToken
from keel.testing.running import app_client, bearer

ANA, BO = "ana@alpha.example", "bo@beta.example"
Apply = Callable[[list[Message]], Awaitable[None]]


def world() -> list[Message]:
    when = at("2024-01-01")
    return [
        upstream.partner("p-1", "alpha.example", when),
        upstream.partner("p-2", "beta.example", when),
        upstream.employee("p-1", "u-1", ANA, when),
        upstream.employee("p-2", "u-2", BO, when),
        upstream.client("c-1", when, country="IN"),
        upstream.subscription("c-1", "1000.00", when),
        upstream.member("c-1", "u-1", when),
        upstream.member("c-1", "u-2", when),
        upstream.activity("c-1", "u-1", ANA, "blog.post_published", at("2024-01-02"), "act-1"),
        upstream.activity("c-1", "u-2", BO, "login.succeeded", at("2024-01-03"), "login-1"),
        upstream.client("c-2", when),
        upstream.subscription("c-2", "300.00", when),
        upstream.member("c-2", "u-1", when),
        upstream.activity("c-2", "u-1", ANA, "email.sent", at("2024-01-20"), "act-2"),
    ]


async def managed_clients(api: httpx.AsyncClient, headers: dict[str, str], as_of: str) -> list[str]:
    """The clients p-1 manages on the day, by id."""
    answer = await api.get(
        "/v1/partners/p-1/managed-credit", params={"as_of": as_of}, headers=headers
    )
    return [c["client_id"] for c in answer.json()["clients"]]


async def admin_attribution(
    api: httpx.AsyncClient, make_token: MakeToken, as_of: str
) -> httpx.Response:
    """c-1's attribution on the day, as an admin reads it (M8)."""
    return await api.get(
        "/v1/clients/c-1/attribution",
        params={"as_of": as_of},
        headers=bearer(make_token(Scope.ADMIN)),
    )


async def attribution_seen_by(
    api: httpx.AsyncClient, make_token: MakeToken, partner_id: str
) -> httpx.Response:
    """c-1's attribution on 2024-02-01 as the partner reads it (D3, D5)."""
    return await api.get(
        f"/v1/partners/{partner_id}/clients/c-1/attribution",
        params={"as_of": "2024-02-01"},
        headers=bearer(make_token(Scope.PARTNER_READ, partner_id=partner_id)),
    )


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2024, 2, 1, 9, tzinfo=UTC))


@pytest.fixture
async def apply(ledger_settings: Settings, clock: FixedClock) -> AsyncIterator[Apply]:
    """Applies upstream events as the worker applies them, at the clock's time."""
    runtime = Runtime.create(ledger_settings, clock)

    async def apply_now(messages: list[Message]) -> None:
        await apply_directly(runtime.sessions, clock, messages)

    yield apply_now
    await runtime.close()


@pytest.fixture
async def api(
    ledger_settings: Settings, clock: FixedClock, apply: Apply
) -> AsyncIterator[httpx.AsyncClient]:
    """The API over the facts of `world()`."""
    await apply(world())
    async with app_client(create_app(ledger_settings, clock)) as http:
        yield http


async def test_m8_attribution_explains_who_manages_and_who_does_not(
    api: httpx.AsyncClient, make_token: MakeToken
) -> None:
    answer = await admin_attribution(api, make_token, "2024-01-10")
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


async def test_a_partner_reads_its_managed_credit_with_totals_and_expiry(
    api: httpx.AsyncClient, make_token: MakeToken
) -> None:
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
    assert body["next_after"] is None
    other = await api.get("/v1/partners/p-2/managed-credit", headers=bearer(token))
    assert other.status_code == 403


async def test_managed_credit_pages_by_client_id_with_totals_over_every_page(
    api: httpx.AsyncClient, make_token: MakeToken
) -> None:
    headers = bearer(make_token(Scope.PARTNER_READ, partner_id="p-1"))
    url, day = "/v1/partners/p-1/managed-credit", {"as_of": "2024-01-25", "page_size": 1}
    first = (await api.get(url, params=day, headers=headers)).json()
    assert [c["client_id"] for c in first["clients"]] == ["c-1"]
    assert first["next_after"] == "c-1"
    assert first["totals"] == {"USD": "1300.00"}
    after = {**day, "after": first["next_after"]}
    second = (await api.get(url, params=after, headers=headers)).json()
    assert [c["client_id"] for c in second["clients"]] == ["c-2"]
    assert second["next_after"] is None
    wrong = await api.get(url, params={"page_size": 0}, headers=headers)
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "page_size"


async def test_the_read_routes_document_their_response_schema(
    api: httpx.AsyncClient,
) -> None:
    paths = (await api.get("/openapi.json")).json()["paths"]
    for path, schema in [
        ("/v1/partners/{partner_id}/managed-credit", "ManagedCreditRead"),
        ("/v1/clients/{client_id}/attribution", "AttributionRead"),
    ]:
        ok = paths[path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert ok == {"$ref": f"#/components/schemas/{schema}"}


async def test_m6_expiring_lists_the_credit_at_risk_within_n_days(
    api: httpx.AsyncClient, make_token: MakeToken
) -> None:
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
    api: httpx.AsyncClient, clock: FixedClock, apply: Apply, make_token: MakeToken
) -> None:
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
    await apply([upstream.activity("c-2", "u-1", ANA, "email.sent", at("2024-01-01"))])
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
    api: httpx.AsyncClient, make_token: MakeToken
) -> None:
    writer = bearer(make_token(Scope.PARTNER_WRITE, partner_id="p-1"))
    path = "/v1/partners/p-1/users/u-1/clients/c-1/remove-access"
    refused = await api.post(path, json={"confirm": "remove"}, headers=writer)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "confirm"
    assert await managed_clients(api, writer, "2024-02-01") == ["c-1", "c-2"]

    done = await api.post(path, json={"confirm": "REMOVE"}, headers=writer)
    assert done.status_code == 200
    assert await managed_clients(api, writer, "2024-02-01") == ["c-2"]
    assert await managed_clients(api, writer, "2024-01-31") == ["c-1", "c-2"]


async def test_m5_m4_ending_services_stops_credit_and_a_manual_link_shows_in_employees(
    api: httpx.AsyncClient, make_token: MakeToken
) -> None:
    admin = bearer(make_token(Scope.ADMIN))
    ended = await api.post("/v1/partners/p-1/clients/c-2/end-services", headers=admin)
    assert ended.status_code == 200
    assert await managed_clients(api, admin, "2024-02-01") == ["c-1"]
    linked = await api.post("/v1/partners/p-2/users/u-2/clients/c-2/link", headers=admin)
    assert linked.status_code == 201
    staff = (await api.get("/v1/partners/p-2/employees", headers=admin)).json()["employees"]
    assert [(e["user_id"], e["status"], e["linked_clients"]) for e in staff] == [
        ("u-2", "active", ["c-2"])
    ]
    by_client = {c["client_id"]: c for c in staff[0]["clients"]}
    assert (by_client["c-2"]["assignment"], by_client["c-2"]["member"]) == ("manual", False)


async def test_m4_employees_lists_the_clients_assigned_automatically_with_the_last_activity(
    api: httpx.AsyncClient, make_token: MakeToken
) -> None:
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
    api: httpx.AsyncClient, make_token: MakeToken
) -> None:
    answer = await attribution_seen_by(api, make_token, "p-1")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["manages"], body["share"], body["share_denominator"]) == (True, "1/1", 1)
    assert [u["user_id"] for u in body["users"]] == ["u-1"]
    assert [s["passed"] for s in body["users"][0]["steps"]] == [True, True, True, True]
    assert "p-2" not in answer.text
    assert "u-2" not in answer.text


async def test_d3_a_login_fails_step_four_with_m3_for_the_partner_that_only_logged_in(
    api: httpx.AsyncClient, make_token: MakeToken
) -> None:
    answer = await attribution_seen_by(api, make_token, "p-2")
    body = answer.json()
    assert (body["manages"], body["share"], body["share_denominator"]) == (False, None, 1)
    steps = body["users"][0]["steps"]
    assert [s["passed"] for s in steps] == [True, True, True, False]
    assert steps[3]["rule"] == "M3"
    assert "login.succeeded" in steps[3]["evidence"]
    assert "p-1" not in answer.text
    assert "u-1" not in answer.text


async def test_policies_are_readable(api: httpx.AsyncClient, make_token: MakeToken) -> None:
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


async def test_issue_12_point_3_attribution_before_the_first_policy_is_422_naming_as_of(
    api: httpx.AsyncClient, make_token: MakeToken
) -> None:
    answer = await admin_attribution(api, make_token, "2017-12-31")
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["errors"][0]["field"] == "as_of"
    assert problem["first_evaluable_day"] == "2018-01-01"


@pytest.mark.parametrize(
    ("method", "path", "scope", "partner_id", "refused_with"),
    [
        pytest.param(
            "GET",
            "/v1/clients/c-1/attribution",
            Scope.PARTNER_READ,
            "p-1",
            403,
            id="attribution_is_for_admins",
        ),
        pytest.param(
            "POST",
            "/v1/partners/p-1/clients/c-1/end-services",
            Scope.PARTNER_WRITE,
            "p-2",
            403,
            id="a_partner_cannot_act_for_another_partner",
        ),
        pytest.param(
            "GET",
            "/v1/partners/p-2/clients/c-2/attribution",
            Scope.PARTNER_READ,
            "p-2",
            404,
            id="partner_scoped_attribution_is_404_for_a_client_the_partner_has_no_users_in",
        ),
        pytest.param(
            "GET",
            "/v1/partners/p-1/clients/c-1/attribution",
            Scope.PARTNER_READ,
            "p-2",
            403,
            id="partner_scoped_attribution_of_another_partner_is_403",
        ),
        pytest.param(
            "POST",
            "/v1/partners/p-1/users/u-2/clients/c-1/link",
            Scope.ADMIN,
            None,
            404,
            id="acting_on_a_user_of_another_partner_is_a_404",
        ),
        pytest.param(
            "POST",
            "/v1/partners/p-1/clients/c-404/end-services",
            Scope.PARTNER_WRITE,
            "p-1",
            404,
            id="acting_on_an_unknown_client_is_a_404",
        ),
    ],
)
async def test_a_request_out_of_the_callers_reach_is_refused(
    api: httpx.AsyncClient,
    make_token: MakeToken,
    method: str,
    path: str,
    scope: Scope,
    partner_id: str | None,
    refused_with: int,
) -> None:
    token = make_token(scope, partner_id=partner_id)
    assert (await api.request(method, path, headers=bearer(token))).status_code == refused_with
