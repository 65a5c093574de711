"""The portal's JSON API with the four services running in-process, on real PostgreSQL and
Kafka: every route of the partner dashboard, for a partner token."""

from decimal import Decimal

import pytest
from portal_support import AS_OF, System

from keel.auth import Scope
from keel.testing.running import bearer, eventually
from partner_portal import owners


async def test_d1_the_clients_table_lists_managed_sold_and_both_with_the_ledgers_credit(
    world: System,
) -> None:
    body = await world.read("/v1/partners/p-1/clients", "p-1", as_of=AS_OF)
    rows = {row["client_id"]: row for row in body["clients"]}
    assert {c: r["relationship"] for c, r in rows.items()} == {
        "c-1": "managed",
        "c-2": "sold",
        "c-3": "both",
    }
    # M7: p-2 only logged in to c-1, so p-1 manages it alone: the whole MRR, share 1/1.
    assert (rows["c-1"]["managed_credit"], rows["c-1"]["share"]) == ("1000.00", "1/1")
    assert (rows["c-2"]["managed_credit"], rows["c-2"]["share"]) == (None, None)
    assert rows["c-1"]["next_renewal_on"] == "2025-05-01"
    assert body["sections"] == {"credit": {"availability": "ok", "reason": None}}


async def test_d1_the_clients_table_follows_every_page_of_the_ledgers_managed_credit(
    world: System, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(owners, "LEDGER_PAGE", 1)  # c-1 and c-3 then come on two pages
    body = await world.read("/v1/partners/p-1/clients", "p-1", as_of=AS_OF)
    rows = {row["client_id"]: row for row in body["clients"]}
    assert rows["c-1"]["managed_credit"] == "1000.00"
    assert rows["c-3"]["managed_credit"] is not None


async def test_d4_engagement_is_the_upstream_score_or_derived_from_the_apps(world: System) -> None:
    body = (await world.get("/v1/partners/p-1/clients", "p-1", as_of=AS_OF)).json()
    rows = {row["client_id"]: row["engagement"] for row in body["clients"]}
    assert (rows["c-1"]["score"], rows["c-1"]["band"], rows["c-1"]["derived"]) == (8, "high", False)
    # Five apps in use, one point each under the derived policy: medium.
    assert (rows["c-2"]["score"], rows["c-2"]["band"], rows["c-2"]["derived"]) == (
        5,
        "medium",
        True,
    )
    assert (rows["c-3"]["score"], rows["c-3"]["band"]) == (0, "low")


async def test_the_clients_table_searches_filters_sorts_and_pages(world: System) -> None:
    async def ids(**params: object) -> list[str]:
        body = await world.read("/v1/partners/p-1/clients", "p-1", as_of=AS_OF, **params)
        return [row["client_id"] for row in body["clients"]]

    assert await ids(q="GARDEN") == ["c-3"]
    assert await ids(q="betabooks") == ["c-2"]
    assert await ids(relationship="sold") == ["c-2"]
    assert await ids(sort="mrr", order="desc") == ["c-1", "c-2", "c-3"]
    assert await ids(sort="engagement", order="desc") == ["c-1", "c-2", "c-3"]
    assert await ids(sort="renewal_date") == ["c-1", "c-3", "c-2"]
    assert await ids(sort="name", page=2, page_size=2) == ["c-3"]


async def test_the_clients_table_as_csv_has_the_same_rows(world: System) -> None:
    answer = await world.portal.get(
        "/v1/partners/p-1/clients",
        params={"as_of": AS_OF},
        headers={**world.partner("p-1"), "accept": "text/csv"},
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    lines = answer.text.splitlines()
    assert lines[0].startswith("client_id,name,domain,products,relationship")
    assert [line.split(",")[0] for line in lines[1:]] == ["c-1", "c-2", "c-3"]


async def test_client_details_show_company_tiers_renewals_usage_links_and_why_credited(
    world: System,
) -> None:
    body = await world.read("/v1/partners/p-1/clients/c-1", "p-1", as_of=AS_OF)
    assert body["company"]["name"] == "Acme Bakery"
    assert (body["subscription"]["contact_tier"], body["subscription"]["email_tier"]) == (
        "Marketing contacts 10,000",
        "Email sends 200,000/month",
    )
    assert body["renewals"]["current"] is None
    upcoming = body["renewals"]["next"]
    assert (upcoming["renewal_date"], upcoming["communication_owner"]["name"]) == (
        "2025-05-01",
        "Olga Owner",
    )
    assert upcoming["renewal_manager"]["email"] == "rita@vendor.example"
    assert body["links"]["crm"].endswith("/c-1")
    assert body["links"]["account"].endswith("/c-1")
    why = body["why_credited"]
    assert (why["credited"], why["share"], why["share_denominator"]) == (True, "1/1", 1)
    assert why["ends_on"] == "2025-05-19"  # M6: Ana's activity of 2025-03-20, 60-day window


async def test_d3_the_checklist_names_the_first_failing_step_and_its_fix(world: System) -> None:
    body = (await world.get("/v1/partners/p-1/clients/c-1", "p-1", as_of=AS_OF)).json()
    users = {u["user_id"]: u for u in body["why_credited"]["users"]}
    assert users["u-1"]["first_failing_step"] is None
    # Cy is a contractor of another email domain with no manual link: step 2 (M4) fails.
    assert users["u-3"]["first_failing_step"] == 2
    assert users["u-3"]["steps"][1]["rule"] == "M4"
    assert "Assign the user to the client" in users["u-3"]["fix"]


async def test_d2_the_dashboard_alerts_on_renewals_expiring_credit_and_summarises(
    world: System,
) -> None:
    rolled = await world.tier.post("/v1/rollups", json={"month": "2025-03"}, headers=world.admin())
    assert rolled.status_code in (200, 201), rolled.text
    body = await world.read("/v1/partners/p-1/dashboard", "p-1", as_of=AS_OF)
    # D2: c-1's decision deadline (2025-04-20) is within 30 days; c-3's (2025-08-01) is not.
    assert body["alerts"]["renewal_decisions"] == {
        "within_days": 30,
        "count": 1,
        "clients": ["c-1"],
    }
    # M6: c-3's credit ends on 2025-04-06 without new activity.
    expiring = body["alerts"]["expiring_credit"]["clients"]
    assert [(c["client_id"], c["ends_on"]) for c in expiring] == [("c-3", "2025-04-06")]
    capacity = body["alerts"]["capacity"]
    assert (capacity["used"], capacity["limit"], capacity["warning"]) == (0, 50, False)
    assert body["clients_by_relationship"] == {"managed": 1, "sold": 1, "both": 1}
    assert body["tier"]["month"] == "2025-03"
    assert Decimal(body["tier"]["points"]["managed"]) > 0
    assert {name: s["availability"] for name, s in body["sections"].items()} == {
        "expiring_credit": "ok",
        "capacity": "ok",
        "tier": "ok",
    }


async def test_renewals_within_days_and_the_team(world: System) -> None:
    soon = (await world.get("/v1/partners/p-1/renewals", "p-1", as_of=AS_OF, within_days=30)).json()
    assert [r["client_id"] for r in soon["renewals"]] == ["c-1"]
    later = (
        await world.get("/v1/partners/p-1/renewals", "p-1", as_of=AS_OF, within_days=180)
    ).json()
    assert [r["client_id"] for r in later["renewals"]] == ["c-1", "c-3"]
    team = (await world.get("/v1/partners/p-1/team", "p-1")).json()["members"]
    assert [(m["role"], m["name"], m["mailto"]) for m in team] == [
        ("partner_development_manager", "Pat Manager", "mailto:pat@vendor.example")
    ]


async def test_employees_show_auto_assigned_and_unassigned_clients_from_the_ledger(
    world: System,
) -> None:
    body = await world.read("/v1/partners/p-1/employees", "p-1", as_of=AS_OF)
    people = {e["user_id"]: e for e in body["employees"]}
    ana = {c["client_id"]: c for c in people["u-1"]["clients"]}
    assert (ana["c-1"]["assignment"], ana["c-3"]["assignment"]) == ("automatic", "automatic")
    assert ana["c-1"]["last_qualifying_activity_at"] == "2025-03-20T09:00:00Z"
    cy = {c["client_id"]: c for c in people["u-3"]["clients"]}
    assert (cy["c-1"]["assignment"], cy["c-1"]["member"]) == (None, True)
    one = await world.get("/v1/partners/p-1/employees/u-3", "p-1", as_of=AS_OF)
    assert (one.status_code, one.json()["email"]) == (200, "cy@freelance.example")
    missing = await world.get("/v1/partners/p-1/employees/u-2", "p-1", as_of=AS_OF)
    assert missing.status_code == 404


async def test_d6_point_changes_count_new_and_lost_points_with_their_clients(
    world: System,
) -> None:
    body = await world.read(
        "/v1/partners/p-1/point-changes", "p-1", **{"from": "2025-02-20", "to": AS_OF}
    )
    assert body["months"] == ["2025-02", "2025-04"]
    # February's evaluation (the 15th): c-3 managed (activity 02-05); April's: c-1 managed
    # (activity 03-20), c-3's window over on 04-06.
    assert [c["client_id"] for c in body["new_managed"]["clients"]] == ["c-1"]
    assert [c["client_id"] for c in body["lost_managed"]["clients"]] == ["c-3"]
    assert (body["new_managed"]["count"], body["lost_managed"]["count"]) == (1, 1)


async def test_invalid_query_values_are_422_naming_the_field(world: System) -> None:
    cases = [
        ("/v1/partners/p-1/clients", {"sort": "size"}, "sort"),
        ("/v1/partners/p-1/clients", {"relationship": "friends"}, "relationship"),
        ("/v1/partners/p-1/clients", {"page_size": "0"}, "page_size"),
        ("/v1/partners/p-1/renewals", {"within_days": "-1"}, "within_days"),
        ("/v1/partners/p-1/dashboard", {"as_of": "yesterday"}, "as_of"),
        ("/v1/partners/p-1/point-changes", {"from": "2025-04-01", "to": "2025-03-01"}, "from"),
    ]
    for path, params, field in cases:
        answer = await world.get(path, "p-1", **params)
        assert answer.status_code == 422, (path, answer.text)
        assert field in [e["field"] for e in answer.json()["errors"]], (path, answer.text)


async def test_a_day_before_the_portals_policies_is_422_naming_the_first_day(
    world: System,
) -> None:
    for path in ("/v1/partners/p-1/dashboard", "/v1/partners/p-1/clients"):
        answer = await world.get(path, "p-1", as_of="2017-12-31")
        assert answer.status_code == 422, (path, answer.text)
        problem = answer.json()
        assert [e["field"] for e in problem["errors"]] == ["as_of"], path
        assert problem["first_evaluable_day"] == "2018-01-01", path


async def test_d1_ending_services_drops_a_managed_client_and_keeps_a_sold_one_as_sold(
    world: System,
) -> None:
    writer = bearer(world.make_token(Scope.PARTNER_WRITE, partner_id="p-1"))
    for client in ("c-1", "c-3"):
        ended = await world.ledger.post(
            f"/v1/partners/p-1/clients/{client}/end-services", headers=writer
        )
        assert ended.status_code == 200, ended.text

    async def relationships() -> dict[str, str] | None:
        answer = await world.get("/v1/partners/p-1/clients", "p-1", as_of=AS_OF)
        rows = {row["client_id"]: row["relationship"] for row in answer.json()["clients"]}
        return rows if "c-1" not in rows else None

    # M5 the same day (the ledger's entry of 2025-04-01); c-3's deal keeps it, as sold.
    assert await eventually(relationships) == {"c-2": "sold", "c-3": "sold"}
