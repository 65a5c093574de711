"""The tier engine's HTTP contract on the real database: rollups, the partner's tier with
insights, breakdown, client history, progress, explanation, calculator, policies."""

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from tier_story import TierStory

from keel.auth import Scope
from keel.events.payloads.deal import DealKind, DealType
from keel.settings import Settings
from keel.testing.plugin import MakeToken
from keel.testing.running import app_client, bearer
from tier_engine.main import create_app


@pytest.fixture
async def api(
    story: TierStory, tier_settings: Settings, make_token: MakeToken
) -> AsyncIterator[httpx.AsyncClient]:
    story.partner("p-1")
    story.partner("p-2")
    story.deal("p-1", "c-1", "1000", "2024-06-01", kind=DealKind.CROSS_SELL)  # 50 sourced
    story.deal("p-1", "c-2", "1000", "2024-09-01", deal_type=DealType.ASSISTED, country="BR")
    story.credit("p-1", "c-3", "6000", "2025-03-01")  # 60 managed
    story.credit("p-1", "c-3", "0", "2025-04-20", recorded="2025-03-01")
    story.credit("p-2", "c-3", "10", "2025-03-01")
    await story.apply()
    async with app_client(create_app(tier_settings, story.clock)) as client:
        client.headers.update(bearer(make_token(Scope.ADMIN)))
        answer = await client.post("/v1/rollups", json={"month": "2025-03"})
        assert answer.status_code == 201, answer.text
        yield client


async def _read(api: httpx.AsyncClient, path: str, **params: str | int) -> Any:
    """The JSON body of a GET, which must answer 200."""
    answer = await api.get(path, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def _calculate(api: httpx.AsyncClient, mode: str, body: dict[str, Any]) -> Any:
    """The calculator's answer in the mode (T6), which must be 200."""
    answer = await api.post(f"/v1/calculator/{mode}", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_t3_post_rollup_reruns_give_the_same_revision_and_digest(
    api: httpx.AsyncClient,
) -> None:
    again = await api.post("/v1/rollups", json={"month": "2025-03"})
    assert again.status_code == 200
    assert (again.json()["revision"], again.json()["created"]) == (1, False)
    summary = await _read(api, "/v1/rollups/2025-03")
    assert summary["digest"] == again.json()["digest"]
    assert summary["tier_counts"] == {"gold": 1, "partner": 1}
    assert summary["policy_versions"]["tier_model"] == "points-2022"


async def test_t3_a_rollup_shows_its_duration_and_completion_in_the_metrics(
    api: httpx.AsyncClient,
) -> None:
    before = REGISTRY.get_sample_value("tier_rollup_last_completed_timestamp_seconds")
    assert before is not None
    assert before > 0
    assert (await api.post("/v1/rollups", json={"month": "2025-03"})).status_code == 200
    after = REGISTRY.get_sample_value("tier_rollup_last_completed_timestamp_seconds")
    assert after is not None
    assert after >= before
    duration = REGISTRY.get_sample_value("tier_rollup_last_duration_seconds")
    assert duration is not None
    assert duration > 0
    exposed = (await api.get("/metrics")).text
    assert "tier_rollup_last_completed_timestamp_seconds" in exposed


async def test_t3_a_month_whose_15th_is_not_over_cannot_be_rolled_up(
    api: httpx.AsyncClient,
) -> None:
    answer = await api.post("/v1/rollups", json={"month": "2025-04"})
    assert answer.status_code == 409
    assert "2025-04-15" in answer.json()["detail"]
    bad = await api.post("/v1/rollups", json={"month": "2025-13"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "month"


async def test_t4_tier_read_carries_points_requirements_and_insights(
    api: httpx.AsyncClient,
) -> None:
    body = await _read(api, "/v1/partners/p-1/tier", month="2025-03")
    assert (body["tier"], body["model"], body["model_derived"], body["revision"]) == (
        "gold",
        "points-2022",
        True,
        1,
    )
    assert body["points"] == {
        "total": "170.00",
        "sold": "110.00",
        "sourced": "50.00",
        "assisted": "60.00",
        "managed": "60.00",
    }
    tracks = {t["track"]: t for t in body["insights"]["tracks"]}
    assert tracks["total_points"]["keep_minimum"] == "123"
    assert (tracks["total_points"]["next_tier"], tracks["total_points"]["missing_for_next"]) == (
        "platinum",
        "143.00",
    )
    assert tracks["sold_points"]["missing_for_next"] == "3.00"
    expiring = [(e["month"], e["total"]) for e in body["insights"]["expiring"]]
    assert expiring == [("2025-04", "0.00"), ("2025-05", "60.00"), ("2025-06", "50.00")]
    assert body["requirements"] == [
        {"name": "certification", "met": True, "detail": "valid certification"}
    ]


async def test_partner_tokens_read_only_their_own_partner(
    api: httpx.AsyncClient, make_token: MakeToken
) -> None:
    own = bearer(make_token(Scope.PARTNER_READ, partner_id="p-2"))
    assert (await api.get("/v1/partners/p-2/tier", headers=own)).status_code == 200
    for path in ("tier", "points-breakdown", "progress", "tier/explain"):
        answer = await api.get(f"/v1/partners/p-1/{path}", headers=own)
        assert answer.status_code == 403, path
    assert (
        await api.post("/v1/rollups", json={"month": "2025-03"}, headers=own)
    ).status_code == 403


async def test_t5_breakdown_per_client_filters_by_deal_and_market_type(
    api: httpx.AsyncClient,
) -> None:
    everything = await _read(api, "/v1/partners/p-1/points-breakdown", month="2025-03")
    clients = {c["client_id"]: c for c in everything["clients"]}
    assert set(clients) == {"c-1", "c-2", "c-3"}
    assert clients["c-2"]["market_type"] == "growth"
    assert clients["c-2"]["rates"][0]["points_per_unit"] == "6"
    assert everything["totals"]["total"] == "170.00"
    growth = await _read(
        api, "/v1/partners/p-1/points-breakdown", month="2025-03", market_type="growth"
    )
    assert [c["client_id"] for c in growth["clients"]] == ["c-2"]
    sourced = await _read(
        api, "/v1/partners/p-1/points-breakdown", month="2025-03", deal_type="sourced"
    )
    assert [(c["client_id"], c["sold_points"]) for c in sourced["clients"]] == [("c-1", "50.00")]
    wrong = await api.get("/v1/partners/p-1/points-breakdown", params={"deal_type": "resold"})
    assert wrong.status_code == 422


async def test_t5_client_history_shows_active_and_expired_points(
    api: httpx.AsyncClient,
) -> None:
    body = await _read(api, "/v1/partners/p-1/clients/c-1/points-history", as_of="2025-07-01")
    assert [d["status"] for d in body["deals"]] == ["expired"]
    assert (body["active_sold_points"], body["expired_sold_points"]) == ("0.00", "50.00")
    assert body["deals"][0]["counts_until"] == "2025-05-31"
    managed = await _read(api, "/v1/partners/p-1/clients/c-3/points-history")
    assert [e["points"] for e in managed["managed_credit"]] == ["60.00", "0.00"]
    missing = await api.get("/v1/partners/p-1/clients/c-404/points-history")
    assert missing.status_code == 404


async def test_t5_progress_lists_rolled_up_months_then_a_projection(
    api: httpx.AsyncClient,
) -> None:
    body = await _read(api, "/v1/partners/p-1/progress", months=2)
    months = [(m["month"], m["total"], m["projected"]) for m in body["months"]]
    assert months == [
        ("2025-02", None, False),
        ("2025-03", "170.00", False),
        ("2025-04", "170.00", True),
        ("2025-05", "110.00", True),
        ("2025-06", "60.00", True),
    ]


async def test_explain_derives_the_tier_down_to_deals_and_ledger_entries(
    api: httpx.AsyncClient,
) -> None:
    body = await _read(api, "/v1/partners/p-1/tier/explain", month="2025-03")
    assert body["tier"] == "gold"
    assert body["live_matches_rollup"] is True
    assert any(line.startswith("T1: gold needs") and "met" in line for line in body["derivation"])
    c3 = next(c for c in body["clients"] if c["client_id"] == "c-3")
    assert c3["managed_credit"]["ledger_rule"] == "M7"
    assert Decimal(c3["managed_points"]) == 60
    c2 = next(c for c in body["clients"] if c["client_id"] == "c-2")
    assert "P3 growth market" in c2["deals"][0]["rule"]


@pytest.mark.parametrize(
    ("request_body", "expected"),
    [
        (
            {
                "amount": "1000",
                "currency": "USD",
                "country": "US",
                "deal_type": "sourced",
                "will_manage": True,
                "other_managing_partners": 1,
                "on": "2024-06-01",
            },
            ("50.00", "5.00", "55.00"),
        ),
        (
            {
                "amount": "1000",
                "currency": "USD",
                "country": "US",
                "deal_type": "assisted",
                "on": "2021-06-01",
            },
            ("30.00", "0.00", "30.00"),
        ),
        (
            {
                "amount": "880",
                "currency": "EUR",
                "country": "IN",
                "deal_type": "sourced",
                "will_manage": True,
                "on": "2025-08-01",
            },
            ("100.00", "20.00", "120.00"),
        ),
    ],
)
async def test_t6_calculator_estimates_sold_managed_and_total_points(
    api: httpx.AsyncClient,
    request_body: dict,
    expected: tuple[str, str, str],  # type: ignore[type-arg]
) -> None:
    body = await _calculate(api, "points", request_body)
    assert (body["sold_points"], body["managed_points"], body["total_points"]) == expected


async def test_t6_currency_mode_converts_both_ways(api: httpx.AsyncClient) -> None:
    gbp = {"currency": "GBP", "country": "GB", "on": "2025-01-01"}
    to_points = await _calculate(
        api,
        "currency",
        {"direction": "currency_to_points", "managed_value": "625", "sold_value": "625", **gbp},
    )
    assert (to_points["managed_points"], to_points["sold_points"]) == ("10.00", "50.00")
    to_value = await _calculate(
        api, "currency", {"direction": "points_to_currency", "managed_points": "10", **gbp}
    )
    assert to_value["managed_value"] == "625.00"


async def test_t6_calculator_names_the_field_of_bad_input(api: httpx.AsyncClient) -> None:
    unknown = await api.post(
        "/v1/calculator/points", json={"amount": "10", "currency": "BRL", "country": "BR"}
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "currency"
    mixed = await api.post(
        "/v1/calculator/currency",
        json={
            "direction": "points_to_currency",
            "currency": "USD",
            "country": "US",
            "sold_value": "10",
        },
    )
    assert mixed.status_code == 422


async def test_policies_are_served_with_versions_and_derived_labels(api: httpx.AsyncClient) -> None:
    body = await _read(api, "/v1/policies")
    assert [m["version"] for m in body["tier_models"]] == ["mrr-2018", "points-2022", "points-2025"]
    assert [m["derived"] for m in body["tier_models"]] == [False, True, True]
    assert body["currency_units"][1]["units"]["EUR"] == "88"
    assert "IN" in body["growth_markets"][0]["countries"]
    assert body["registration_required"][0]["required"] is True


@pytest.mark.parametrize(
    ("method", "path", "request_kwargs", "field"),
    [
        (
            "POST",
            "/v1/calculator/points",
            {"json": {"amount": "10", "currency": "USD", "country": "US", "on": "2000-01-01"}},
            "on",
        ),
        (
            "POST",
            "/v1/calculator/currency",
            {
                "json": {
                    "direction": "points_to_currency",
                    "currency": "USD",
                    "country": "US",
                    "sold_points": "10",
                    "on": "2000-01-01",
                }
            },
            "on",
        ),
        (
            "GET",
            "/v1/partners/p-1/clients/c-1/points-history",
            {"params": {"as_of": "2017-12-31"}},
            "as_of",
        ),
        ("GET", "/v1/partners/p-1/clients/c-1/points-history", {"params": {"as_of": "0"}}, "as_of"),
        ("GET", "/v1/partners/p-1/points-breakdown", {"params": {"month": "2017-12"}}, "month"),
        ("POST", "/v1/rollups", {"json": {"month": "2017-01"}}, "month"),
    ],
)
async def test_issue_12_point_3_days_before_the_first_policy_answer_422_naming_field_and_first_day(
    api: httpx.AsyncClient,
    method: str,
    path: str,
    request_kwargs: dict[str, Any],
    field: str,
) -> None:
    answer = await api.request(method, path, **request_kwargs)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert [error["field"] for error in problem["errors"]] == [field]
    assert problem["first_evaluable_day"] == "2018-01-01"
    assert "2018-01-01" in problem["errors"][0]["reason"]


@pytest.mark.parametrize(
    ("method", "path", "request_kwargs"),
    [
        ("POST", "/v1/rollups", {"json": {"month": "0000-01"}}),
        ("GET", "/v1/rollups/0000-01", {}),
        ("GET", "/v1/partners/p-1/points-breakdown", {"params": {"month": "0001-05"}}),
        ("GET", "/v1/partners/p-1/tier", {"params": {"month": "9999-12"}}),
        ("GET", "/v1/partners/p-1/tier/explain", {"params": {"month": "0000-12"}}),
    ],
)
async def test_issue_12_point_5_months_off_the_calendar_are_422_naming_month(
    api: httpx.AsyncClient, method: str, path: str, request_kwargs: dict[str, Any]
) -> None:
    """Found by the fuzzer: year 0 and years whose windows leave the calendar were 500s."""
    answer = await api.request(method, path, **request_kwargs)
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] == "month"
