"""Templates (autoescaped Jinja2), each rendered in the request's language, and the page route
class that turns an error into a page instead of problem+json: a missing sign-in goes to the
sign-in page, anything else shows the problem translated by its type and fields."""

from collections.abc import Callable, Coroutine, Mapping
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from keel.errors import AppError, FieldError, ValidationFailed, field_path
from partner_portal.web import formatting, i18n
from partner_portal.web.session import SignInNeeded, csrf_token, keep_csrf

TEMPLATES = Path(__file__).parent / "templates"

# Everything comes from this origin: no CDN, font or script from elsewhere.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'self'"
)


def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "svg"], default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals["LOCALES"] = i18n.LOCALES
    environment.globals["language_name"] = i18n.language_name
    return environment


ENVIRONMENT = _environment()
MESSAGES = {locale: i18n.load(locale) for locale in i18n.LOCALES}


def locale_of(request: Request) -> str:
    return i18n.negotiate(
        request.cookies.get(i18n.LOCALE_COOKIE), request.headers.get("accept-language")
    )


def _with_query(request: Request, **changes: Any) -> str:
    """This page's URL with some query parameters changed (None drops one): sorting, paging and
    filtering links that keep the rest of the state in the URL."""
    params = dict(request.query_params)
    for name, value in changes.items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = str(value)
    return f"{request.url.path}?{urlencode(params)}" if params else request.url.path


def render(
    request: Request, template: str, context: Mapping[str, Any], status: int = 200
) -> HTMLResponse:
    locale = locale_of(request)
    messages = MESSAGES[locale]
    html = ENVIRONMENT.get_template(template).render(
        {
            **context,
            "request": request,
            "locale": locale,
            "csrf": csrf_token(request),
            "with_query": partial(_with_query, request),
            "gettext": messages.gettext,
            "_": messages.gettext,
            "number": partial(formatting.number, locale=locale),
            "money": partial(formatting.money, locale=locale),
            "percent": partial(formatting.percent, locale=locale),
            "day": partial(formatting.day, locale=locale),
        }
    )
    response = HTMLResponse(html, status_code=status)
    response.headers["Content-Language"] = locale
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["Referrer-Policy"] = "same-origin"
    keep_csrf(request, response)
    return response


def problem_page(request: Request, error: AppError) -> Response:
    if isinstance(error, SignInNeeded):
        return RedirectResponse(f"/sign-in?{urlencode({'next': request.url.path})}", 303)
    return render(
        request,
        "problem.html",
        {"problem": error, "fields": [e.field for e in error.errors]},
        status=error.status,
    )


class PageRoute(APIRoute):
    """Page routes answer HTML, errors included."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await handle(request)
            except AppError as error:
                return problem_page(request, error)
            except RequestValidationError as error:
                errors = [FieldError(field_path(e["loc"]), e["msg"]) for e in error.errors()]
                return problem_page(request, ValidationFailed("invalid", errors=errors))

        return handler


def iso(value: date | None) -> str | None:
    return value.isoformat() if value else None
