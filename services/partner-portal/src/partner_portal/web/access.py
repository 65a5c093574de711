"""Sign in, sign out, the language switcher and the admin's "view as partner" picker."""

from collections.abc import Mapping
from datetime import timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from keel.auth import Scope, issue_token
from keel.errors import Unauthorized
from keel.http.dependencies import ClockDep, RuntimeDep
from keel.runtime import Runtime
from partner_portal.web import i18n
from partner_portal.web.rendering import PageRoute, render
from partner_portal.web.session import (
    FormId,
    check_post,
    end_session,
    keep_session,
    signed_in,
    verify,
)

router = APIRouter(route_class=PageRoute)

# A development sign-in lasts a working day.
DEV_TOKEN_TTL = timedelta(hours=8)


def _home(partner_id: str | None) -> str:
    return f"/partners/{quote(partner_id, safe='')}/" if partner_id else "/view-as"


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site (never `//host` or a scheme): no open redirect."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return None


def _with_local(context: Mapping[str, object], runtime: Runtime) -> dict[str, object]:
    return {**context, "local": runtime.settings.service.environment == "local"}


@router.get("/", include_in_schema=False)
async def home(request: Request) -> Response:
    principal, _ = signed_in(request)
    return RedirectResponse(_home(principal.partner_id), 303)


@router.get("/sign-in", include_in_schema=False)
async def sign_in_page(
    request: Request, runtime: RuntimeDep, next: str | None = None, partner_id: str = ""
) -> Response:
    """`partner_id` fills the local development sign-in (the links `make demo` prints)."""
    context = {"next": _safe_next(next) or "", "partner_id": partner_id, "error": None}
    return render(request, "sign_in.html", _with_local(context, runtime))


@router.post("/sign-in", include_in_schema=False)
async def sign_in(
    request: Request,
    runtime: RuntimeDep,
    token: Annotated[str, Form(max_length=8192)],
    next: Annotated[str, Form()] = "",
) -> Response:
    """The pasted token is checked as the services check it, then kept in the cookie."""
    await check_post(request)
    token = token.strip()
    try:
        principal = verify(request, token)
    except Unauthorized:
        context = {"next": _safe_next(next) or "", "partner_id": "", "error": "token"}
        return render(request, "sign_in.html", _with_local(context, runtime), status=401)
    response = RedirectResponse(_safe_next(next) or _home(principal.partner_id), 303)
    keep_session(request, response, token)
    return response


@router.post("/sign-in/dev", include_in_schema=False)
async def sign_in_as_partner(
    request: Request,
    runtime: RuntimeDep,
    clock: ClockDep,
    partner_id: FormId,
) -> Response:
    """`local` only: a development token for the partner, as `make token` mints one."""
    await check_post(request)
    settings = runtime.settings
    if settings.service.environment != "local":
        raise Unauthorized("development sign-in exists only in the local environment")
    token = issue_token(
        settings.auth,
        subject=f"dev-{partner_id}",
        scopes=[Scope.PARTNER_READ, Scope.PARTNER_WRITE],
        now=clock.now(),
        ttl=DEV_TOKEN_TTL,
        partner_id=partner_id,
    )
    response = RedirectResponse(_home(partner_id), 303)
    keep_session(request, response, token)
    return response


@router.post("/sign-out", include_in_schema=False)
async def sign_out(request: Request) -> Response:
    await check_post(request)
    response = RedirectResponse("/sign-in", 303)
    end_session(response)
    return response


@router.post("/language", include_in_schema=False)
async def choose_language(
    request: Request,
    locale: Annotated[str, Form()],
    back: Annotated[str, Form()] = "/",
) -> Response:
    """The switcher: kept in a cookie for a year, then back to the page it was used on."""
    await check_post(request)
    response = RedirectResponse(_safe_next(back) or "/", 303)
    if locale in i18n.LOCALES:
        response.set_cookie(
            i18n.LOCALE_COOKIE, locale, max_age=365 * 86400, samesite="strict", httponly=True
        )
    return response


@router.get("/view-as", include_in_schema=False)
async def view_as(request: Request, partner_id: str | None = None) -> Response:
    """Admins pick a partner to view; a partner is sent to its own dashboard."""
    principal, _ = signed_in(request)
    if not principal.is_admin:
        return RedirectResponse(_home(principal.partner_id), 303)
    if partner_id:
        return RedirectResponse(_home(partner_id.strip()), 303)
    return render(request, "view_as.html", {"principal": principal})
