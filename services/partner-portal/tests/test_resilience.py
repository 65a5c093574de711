"""An owner that is down or slow: its section is unavailable and the dashboard still answers
200; a route whose only section it is answers 503 (problem details), never a 500."""

from portal_support import AS_OF, Settings5, system, world_settled

from keel.testing.plugin import MakeToken


async def test_with_the_ledger_down_sections_say_unavailable_and_single_routes_are_503(
    every_settings: Settings5, make_token: MakeToken
) -> None:
    async with system(every_settings, make_token, down=("credit-ledger",)) as running:
        await world_settled(running)
        dashboard = await running.get("/v1/partners/p-1/dashboard", "p-1", as_of=AS_OF)
        clients = await running.get("/v1/partners/p-1/clients", "p-1", as_of=AS_OF)
        details = await running.get("/v1/partners/p-1/clients/c-1", "p-1", as_of=AS_OF)
        employees = await running.get("/v1/partners/p-1/employees", "p-1", as_of=AS_OF)
        upstreams = await running.portal.get("/v1/upstreams", headers=running.admin())
    assert {name: s["availability"] for name, s in upstreams.json()["upstreams"].items()} == {
        "activity-ingest": "ok",
        "credit-ledger": "unavailable",
        "tier-engine": "ok",
        "capacity": "ok",
    }
    assert dashboard.status_code == 200, dashboard.text
    body = dashboard.json()
    assert body["sections"]["expiring_credit"]["availability"] == "unavailable"
    assert body["alerts"]["expiring_credit"] is None
    assert body["alerts"]["renewal_decisions"]["count"] == 1  # the portal's own facts still
    assert body["sections"]["capacity"]["availability"] == "ok"
    assert clients.status_code == 200
    assert clients.json()["sections"]["credit"]["availability"] == "unavailable"
    assert {row["managed_credit"] for row in clients.json()["clients"]} == {None}
    assert details.status_code == 200
    assert (details.json()["why_credited"], details.json()["company"]["name"]) == (
        None,
        "Acme Bakery",
    )
    assert employees.status_code == 503
    assert employees.headers["content-type"] == "application/problem+json"
    assert employees.json()["upstream"] == "credit-ledger"


async def test_an_owner_that_never_answers_times_out_into_an_unavailable_section(
    every_settings: Settings5, make_token: MakeToken
) -> None:
    async with system(every_settings, make_token, hanging=("capacity", "tier-engine")) as running:
        await world_settled(running)
        dashboard = await running.get("/v1/partners/p-1/dashboard", "p-1", as_of=AS_OF)
        changes = await running.get(
            "/v1/partners/p-1/point-changes", "p-1", **{"from": "2025-03-01", "to": AS_OF}
        )
    assert dashboard.status_code == 200, dashboard.text
    sections = dashboard.json()["sections"]
    assert (sections["capacity"]["availability"], sections["tier"]["availability"]) == (
        "unavailable",
        "unavailable",
    )
    assert "0.5s" in sections["capacity"]["reason"]
    assert sections["expiring_credit"]["availability"] == "ok"
    assert changes.status_code == 503
