"""Signing in to the pages: the token rides in an HttpOnly, SameSite=Strict cookie that expires
with the token, so page scripts never see it. Every POST carries a CSRF token (double submit:
a random cookie echoed in the form) and must come from this origin.
"""

import hmac
import logging
import secrets
from datetime import UTC, datetime
from typing import Annotated

import jwt
from fastapi import Form, Request, Response

from keel.auth import Principal
from keel.errors import AppError, Forbidden, Unauthorized
from keel.runtime import Runtime

logger = logging.getLogger(__name__)

SESSION_COOKIE = "portal_session"
CSRF_COOKIE = "portal_csrf"
CSRF_FIELD = "csrf"


class SignInNeeded(AppError):
    """No usable token in the cookie: the page sends the browser to sign in."""

    status, slug, title = 401, "sign-in-needed", "Sign in needed"


class CsrfRefused(AppError):
    status, slug, title = 403, "csrf-refused", "Request refused"


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def verify(request: Request, token: str) -> Principal:
    """Checked as every service checks a bearer token (the runtime's keel.auth verifier)."""
    return _runtime(request).tokens.verify(token)


def signed_in(request: Request) -> tuple[Principal, str]:
    """The principal of the session cookie, and its token (forwarded to the owners as it came)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise SignInNeeded("no session")
    try:
        return verify(request, token), token
    except Unauthorized as error:
        raise SignInNeeded(error.detail) from error


def expires_at(token: str) -> datetime:
    """The token's own expiry (already verified), for the cookie's."""
    claims = jwt.decode(token, options={"verify_signature": False})
    return datetime.fromtimestamp(int(claims["exp"]), tz=UTC)


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def keep_session(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        expires=expires_at(token),
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/",
    )


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")


def csrf_token(request: Request) -> str:
    """The cookie's token, or a new one (stored on the request so the response can set it)."""
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if token is None:
        token = secrets.token_urlsafe(32)
        request.state.new_csrf = token
    return str(token)


def keep_csrf(request: Request, response: Response) -> None:
    new = getattr(request.state, "new_csrf", None)
    if new is not None:
        response.set_cookie(
            CSRF_COOKIE, new, httponly=True, samesite="strict", secure=_secure(request), path="/"
        )


# An id a form posts (a partner, a client): required, and as long as the pages let it be.
FormId = Annotated[str, Form(min_length=1, max_length=200)]


async def check_post(request: Request) -> None:
    """A POST must come from this origin and echo the CSRF cookie in its form."""
    origin = request.headers.get("origin")
    own = f"{request.url.scheme}://{request.url.netloc}"
    if origin != own:
        raise CsrfRefused(f"origin {origin!r} is not {own!r}")
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    kept = request.cookies.get(CSRF_COOKIE)
    if not isinstance(sent, str) or not kept or not hmac.compare_digest(sent, kept):
        raise CsrfRefused("the form's CSRF token does not match")


def may_view(principal: Principal, partner_id: str, path: str) -> None:
    """A partner sees only its own pages (D5); an admin sees any, and each view is logged."""
    if not principal.can_read_partner(partner_id):
        raise Forbidden("this sign-in cannot see that partner")
    if principal.is_admin:
        logger.info(
            "admin view as partner",
            extra={"admin": principal.subject, "partner_id": partner_id, "path": path},
        )
