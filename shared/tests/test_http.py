"""The HTTP edge on a real app: problem details, scopes and partner isolation, health, metrics."""

import gc
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter
from pydantic import BaseModel, Field, SecretStr
from sqlalchemy import text

from keel.auth import Scope
from keel.errors import Conflict
from keel.http.app import API_PREFIX, create_service_app
from keel.http.dependencies import AdminDep, PartnerReaderDep, PartnerWriterDep, SessionDep
from keel.runtime import Runtime
from keel.settings import PostgresSettings, Settings
from keel.testing.plugin import MakeToken
from keel.testing.running import app_client, bearer

router = APIRouter(prefix=API_PREFIX)


class Thing(BaseModel):
    name: str = Field(min_length=1)
    amount: int = Field(ge=0)


@router.get("/partners/{partner_id}/things")
async def read_things(partner_id: str, _: PartnerReaderDep) -> dict[str, str]:
    return {"partner_id": partner_id}


@router.post("/partners/{partner_id}/things")
async def write_thing(partner_id: str, thing: Thing, _: PartnerWriterDep) -> Thing:
    return thing


@router.get("/admin-only")
async def admin_only(_: AdminDep) -> dict[str, bool]:
    return {"ok": True}


@router.get("/conflict")
async def conflict() -> None:
    raise Conflict("already there", extensions={"limit": 50, "used": 50})


@router.get("/boom")
async def boom() -> None:
    raise RuntimeError("secret internals")


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_service_app(Runtime.create(settings), title="t", description="t", routers=[router])
    async with app_client(app) as client:
        yield client


async def test_what_the_app_loaded_at_start_stays_out_of_full_collections_while_it_runs(
    settings: Settings,
) -> None:
    app = create_service_app(Runtime.create(settings), title="t", description="t", routers=[router])
    async with app_client(app) as client:
        assert (await client.get("/healthz")).status_code == 200
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0  # given back to the collector when the app stops


async def test_a_request_without_a_token_gets_a_401_problem(client: httpx.AsyncClient) -> None:
    answer = await client.get("/v1/partners/p-1/things")
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert answer.json()["type"] == "/problems/unauthorized"


async def test_a_forged_token_is_refused(client: httpx.AsyncClient, make_token: MakeToken) -> None:
    token = make_token(Scope.ADMIN)
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    answer = await client.get("/v1/admin-only", headers=bearer(forged))
    assert answer.status_code == 401


async def test_a_partner_token_reads_its_own_partner(
    client: httpx.AsyncClient, make_token: MakeToken
) -> None:
    token = make_token(Scope.PARTNER_READ, partner_id="p-1")
    answer = await client.get("/v1/partners/p-1/things", headers=bearer(token))
    assert answer.status_code == 200
    assert answer.json() == {"partner_id": "p-1"}


async def test_a_partner_token_never_reaches_another_partner(
    client: httpx.AsyncClient, make_token: MakeToken
) -> None:
    token = make_token(Scope.PARTNER_READ, Scope.PARTNER_WRITE, partner_id="p-1")
    read = await client.get("/v1/partners/p-2/things", headers=bearer(token))
    write = await client.post(
        "/v1/partners/p-2/things", json={"name": "x", "amount": 1}, headers=bearer(token)
    )
    assert (read.status_code, write.status_code) == (403, 403)
    assert read.json()["type"] == "/problems/forbidden"


async def test_a_read_token_cannot_write(client: httpx.AsyncClient, make_token: MakeToken) -> None:
    token = make_token(Scope.PARTNER_READ, partner_id="p-1")
    answer = await client.post(
        "/v1/partners/p-1/things", json={"name": "x", "amount": 1}, headers=bearer(token)
    )
    assert answer.status_code == 403


async def test_admin_reaches_every_partner_and_admin_routes(
    client: httpx.AsyncClient, make_token: MakeToken
) -> None:
    token = make_token(Scope.ADMIN)
    assert (await client.get("/v1/partners/p-9/things", headers=bearer(token))).status_code == 200
    assert (await client.get("/v1/admin-only", headers=bearer(token))).status_code == 200


async def test_producers_are_not_admins(client: httpx.AsyncClient, make_token: MakeToken) -> None:
    token = make_token(Scope.EVENTS_WRITE)
    assert (await client.get("/v1/admin-only", headers=bearer(token))).status_code == 403


async def test_request_validation_is_a_problem_naming_each_field(
    client: httpx.AsyncClient, make_token: MakeToken
) -> None:
    token = make_token(Scope.PARTNER_WRITE, partner_id="p-1")
    answer = await client.post(
        "/v1/partners/p-1/things", json={"name": "", "amount": -1}, headers=bearer(token)
    )
    assert answer.status_code == 422
    problem = answer.json()
    assert problem["type"] == "/problems/validation-failed"
    assert {error["field"] for error in problem["errors"]} == {"name", "amount"}
    assert all(error["reason"] for error in problem["errors"])


async def test_app_errors_carry_their_extensions(client: httpx.AsyncClient) -> None:
    answer = await client.get("/v1/conflict")
    assert answer.status_code == 409
    problem = answer.json()
    assert (problem["limit"], problem["used"]) == (50, 50)
    assert (problem["status"], problem["instance"]) == (409, "/v1/conflict")


async def test_unknown_routes_are_problems_too(client: httpx.AsyncClient) -> None:
    answer = await client.get("/v1/nowhere")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"


async def test_an_unexpected_error_is_a_500_problem_without_internals(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.get("/v1/boom")
    assert answer.status_code == 500
    assert "secret internals" not in answer.text
    assert answer.json()["type"] == "/problems/internal-error"


async def test_the_request_id_is_echoed_and_taken_from_traceparent(
    client: httpx.AsyncClient,
) -> None:
    parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    answer = await client.get("/healthz", headers={"traceparent": parent})
    assert answer.headers["x-request-id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    fresh = await client.get("/healthz")
    assert len(fresh.headers["x-request-id"]) == 32


async def test_readyz_is_200_when_database_and_kafka_answer(client: httpx.AsyncClient) -> None:
    answer = await client.get("/readyz")
    assert answer.status_code == 200
    assert answer.json()["checks"] == {"database": "ok", "kafka": "ok"}


async def test_readyz_is_503_naming_the_database_when_it_does_not_answer(
    settings: Settings,
) -> None:
    unreachable = settings.model_copy(
        update={
            "database": PostgresSettings(
                url=SecretStr("postgresql+asyncpg://nobody@127.0.0.1:1/none")
            )
        }
    )
    app = create_service_app(Runtime.create(unreachable), title="t", description="t", routers=[])
    async with app_client(app) as client:
        answer = await client.get("/readyz")
    assert answer.status_code == 503
    checks = answer.json()["checks"]
    assert checks["kafka"] == "ok"
    assert checks["database"].startswith("failing")


async def test_metrics_count_requests_by_route_template(
    client: httpx.AsyncClient, make_token: MakeToken
) -> None:
    token = make_token(Scope.ADMIN)
    await client.get("/v1/partners/p-42/things", headers=bearer(token))
    metrics = (await client.get("/metrics")).text
    assert 'route="/v1/partners/{partner_id}/things"' in metrics
    assert "p-42" not in metrics


async def test_issue_12_point_5_nul_characters_are_refused_naming_the_field(
    client: httpx.AsyncClient, make_token: MakeToken
) -> None:
    headers = bearer(make_token(Scope.ADMIN))
    in_query = await client.get("/v1/partners/p-1/things", params={"q": "a\x00b"}, headers=headers)
    assert in_query.status_code == 422
    assert in_query.json()["errors"][0]["field"] == "q"
    in_body = await client.post(
        "/v1/partners/p-1/things", json={"name": "a\x00", "amount": 1}, headers=headers
    )
    assert in_body.status_code == 422
    assert in_body.headers["content-type"] == "application/problem+json"
    assert in_body.json()["errors"][0]["field"] == "name"


async def test_issue_12_point_5_a_json_route_sent_another_media_type_answers_415(
    client: httpx.AsyncClient, make_token: MakeToken
) -> None:
    answer = await client.post(
        "/v1/partners/p-1/things",
        content=b"name=x",
        headers={**bearer(make_token(Scope.ADMIN)), "content-type": "text/plain"},
    )
    assert answer.status_code == 415
    assert answer.headers["content-type"] == "application/problem+json"


async def test_issue_12_point_5_openapi_names_error_answers_as_problem_details(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    write = document["paths"]["/v1/partners/{partner_id}/things"]["post"]["responses"]
    assert {"400", "401", "403", "404", "409", "415", "422", "503"} <= set(write)
    for status in ("401", "422", "503"):
        assert write[status]["content"] == {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        }
    assert set(document["paths"]["/metrics"]["get"]["responses"]["200"]["content"]) == {
        "text/plain"
    }
    assert "HTTPValidationError" not in document["components"]["schemas"]


@router.get("/stored-number")
async def stored_number(value: int, session: SessionDep) -> dict[str, int]:
    found = await session.scalar(text("SELECT CAST(:value AS integer)"), {"value": value})
    return {"value": int(found or 0)}


async def test_issue_12_point_5_a_value_the_database_refuses_is_a_422_not_a_500(
    client: httpx.AsyncClient,
) -> None:
    fits = await client.get("/v1/stored-number", params={"value": 7})
    assert fits.json() == {"value": 7}
    too_large = await client.get("/v1/stored-number", params={"value": 2**40})
    assert too_large.status_code == 422
    assert too_large.headers["content-type"] == "application/problem+json"
    assert "cannot be stored" in too_large.json()["detail"]
