"""D5: a partner token sees only its own partner: another partner's paths are 403, another
partner's client is 404, and no answer names another partner or its users. Admin sees any."""

from portal_support import AS_OF, BO, System

ROUTES = [
    "/v1/partners/{}/dashboard",
    "/v1/partners/{}/clients",
    "/v1/partners/{}/clients/c-4",
    "/v1/partners/{}/renewals",
    "/v1/partners/{}/team",
    "/v1/partners/{}/employees",
    "/v1/partners/{}/employees/u-2",
    "/v1/partners/{}/point-changes?from=2025-03-01&to=2025-04-01",
]


async def test_another_partners_paths_are_403_and_carry_no_data(world: System) -> None:
    for route in ROUTES:
        answer = await world.get(route.format("p-2"), "p-1", as_of=AS_OF)
        assert answer.status_code == 403, (route, answer.text)
        assert "c-4" not in answer.text.replace(route.format("p-2"), "")


async def test_without_a_token_every_route_is_401(world: System) -> None:
    for route in ROUTES:
        answer = await world.portal.get(route.format("p-1"))
        assert answer.status_code == 401, route


async def test_another_partners_client_is_404_for_the_partner(world: System) -> None:
    answer = await world.get("/v1/partners/p-1/clients/c-4", "p-1", as_of=AS_OF)
    assert answer.status_code == 404
    assert "Delta" not in answer.text
    # p-2's user only logged in to c-1: c-1 was never p-2's client.
    assert (await world.get("/v1/partners/p-2/clients/c-1", "p-2", as_of=AS_OF)).status_code == 404


async def test_a_shared_clients_details_never_name_the_other_partner_or_its_users(
    world: System,
) -> None:
    answer = await world.get("/v1/partners/p-1/clients/c-1", "p-1", as_of=AS_OF)
    assert answer.status_code == 200
    for foreign in ("p-2", "u-2", BO):
        assert foreign not in answer.text
    listed = await world.get("/v1/partners/p-1/clients", "p-1", as_of=AS_OF)
    assert "c-4" not in listed.text


async def test_admin_reads_any_partner(world: System) -> None:
    answer = await world.portal.get(
        "/v1/partners/p-2/clients", params={"as_of": AS_OF}, headers=world.admin()
    )
    assert answer.status_code == 200
    assert [row["client_id"] for row in answer.json()["clients"]] == ["c-4"]
