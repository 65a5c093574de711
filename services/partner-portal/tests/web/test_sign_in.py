"""Signing in to the pages over HTTP (no browser needed): the token's cookie, CSRF and Origin on
every POST, the local development sign-in, the admin's logged views."""

import logging
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx
import jwt
import pytest

from keel.auth import Scope
from keel.settings import ServiceSettings
from keel.testing.plugin import MakeToken
from keel.testing.running import app_client
from partner_portal.config import PortalServiceSettings
from partner_portal.main import create_app

ORIGIN = {"Origin": "http://test"}


@pytest.fixture
async def pages(portal_settings: PortalServiceSettings) -> AsyncIterator[httpx.AsyncClient]:
    """The portal alone: its owners answer nothing, so figures are unavailable (not needed)."""
    async with app_client(create_app(portal_settings)) as client:
        yield client


async def _csrf(client: httpx.AsyncClient, path: str = "/sign-in") -> str:
    page = await client.get(path)
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


async def _submit(
    client: httpx.AsyncClient, path: str, data: dict[str, str], language: str | None = None
) -> httpx.Response:
    """A form posted as the sign-in page posts it: from this origin, with the page's CSRF token."""
    form = {**data, "csrf": await _csrf(client)}
    headers = {**ORIGIN, "Accept-Language": language} if language else ORIGIN
    return await client.post(path, data=form, headers=headers)


async def test_a_pasted_token_is_kept_in_an_httponly_strict_cookie_that_expires_with_it(
    pages: httpx.AsyncClient, make_token: MakeToken
) -> None:
    token = make_token(Scope.PARTNER_READ, partner_id="p-1")
    answer = await _submit(pages, "/sign-in", {"token": token})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/partners/p-1/"
    cookie = next(
        c for c in answer.headers.get_list("set-cookie") if c.startswith("portal_session=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    expires = parsedate_to_datetime(re.search(r"expires=([^;]+)", cookie).group(1))  # type: ignore[union-attr]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert expires == datetime.fromtimestamp(claims["exp"], tz=UTC)


async def test_a_bad_token_is_refused_in_the_browsers_language(pages: httpx.AsyncClient) -> None:
    answer = await _submit(pages, "/sign-in", {"token": "not-a-jwt"}, language="de-DE,de;q=0.9")
    assert answer.status_code == 401
    assert "Dieses Token wurde nicht angenommen" in answer.text
    assert "portal_session" not in answer.headers.get("set-cookie", "")


async def test_a_post_without_the_csrf_token_or_from_another_origin_is_refused(
    pages: httpx.AsyncClient, make_token: MakeToken
) -> None:
    token = make_token(Scope.PARTNER_READ, partner_id="p-1")
    csrf = await _csrf(pages)
    missing = await pages.post("/sign-in", data={"token": token}, headers=ORIGIN)
    wrong = await pages.post("/sign-in", data={"token": token, "csrf": "guess"}, headers=ORIGIN)
    elsewhere = await pages.post(
        "/sign-in", data={"token": token, "csrf": csrf}, headers={"Origin": "http://evil.example"}
    )
    no_origin = await pages.post("/sign-in", data={"token": token, "csrf": csrf})
    for answer in (missing, wrong, elsewhere, no_origin):
        assert answer.status_code == 403
        assert "Request refused" in answer.text


async def test_pages_without_a_session_send_the_browser_to_sign_in(
    pages: httpx.AsyncClient,
) -> None:
    answer = await pages.get("/partners/p-1/tier")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/sign-in?next=%2Fpartners%2Fp-1%2Ftier"


async def test_the_development_sign_in_is_refused_outside_the_local_environment(
    pages: httpx.AsyncClient,
) -> None:
    answer = await _submit(pages, "/sign-in/dev", {"partner_id": "p-1"})
    assert answer.status_code == 401
    assert "portal_session" not in answer.headers.get("set-cookie", "")


async def test_the_local_environment_signs_in_as_a_partner_with_a_development_token(
    portal_settings: PortalServiceSettings,
) -> None:
    local = ServiceSettings(name=portal_settings.service.name, environment="local")
    async with app_client(create_app(portal_settings.model_copy(update={"service": local}))) as c:
        page = await c.get("/sign-in?partner_id=p-7")
        assert 'value="p-7"' in page.text
        answer = await _submit(c, "/sign-in/dev", {"partner_id": "p-7"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/partners/p-7/"
    token = answer.cookies["portal_session"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert (claims["partner_id"], claims["scope"]) == ("p-7", "partner:read partner:write")


async def test_an_admin_picks_a_partner_and_every_view_is_logged(
    pages: httpx.AsyncClient, make_token: MakeToken, caplog: pytest.LogCaptureFixture
) -> None:
    token = make_token(Scope.ADMIN, subject="ops-anna")
    await _submit(pages, "/sign-in", {"token": token})
    picker = await pages.get("/view-as")
    assert "Every page you view as a partner is logged." in picker.text
    chosen = await pages.get("/view-as", params={"partner_id": "p-1"})
    assert chosen.headers["location"] == "/partners/p-1/"
    with caplog.at_level(logging.INFO, logger="partner_portal.web.session"):
        answer = await pages.get("/partners/p-1/team")
    assert answer.status_code in (200, 503)  # the owners are not running here
    views = [r for r in caplog.records if r.getMessage() == "admin view as partner"]
    assert [(r.admin, r.partner_id, r.path) for r in views] == [  # type: ignore[attr-defined]
        ("ops-anna", "p-1", "/partners/p-1/team")
    ]


async def test_a_form_value_holding_nul_is_refused_naming_the_field(
    pages: httpx.AsyncClient,
) -> None:
    """Forms are read as forms (not refused for not being JSON), and NUL never reaches a route."""
    answer = await _submit(pages, "/sign-in", {"token": "a\x00b"})
    assert answer.status_code == 422
    assert "This value is not valid: token" in answer.text
