"""Input no route can store, refused for every route before it runs (issue 12 point 5).

PostgreSQL text and JSON cannot hold the NUL character: a value carrying one would fail in the
database, as a 500. It is refused here as a 422 naming the field. A route that reads a JSON body
through its schema is sent JSON or answers 415 (routes reading the raw body check it themselves);
a route that reads form fields (the partner portal's pages) is sent a form, its values checked
for NUL as query values are.
"""

import json
from typing import Any

from fastapi import Request, params
from fastapi.routing import APIRoute

from keel.errors import FieldError, UnsupportedMediaType, ValidationFailed, field_path

NUL = "\x00"
NUL_REASON = "the NUL character (U+0000) cannot be stored"


def _nul_at(value: Any, location: tuple[str | int, ...] = ()) -> tuple[str | int, ...] | None:
    """Where in a parsed JSON document a string (a key or a value) holds NUL."""
    if isinstance(value, str):
        return location if NUL in value else None
    items: list[tuple[str | int, Any]] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            if NUL in key:
                return (*location, key)
            items.append((key, inner))
    elif isinstance(value, list):
        items = list(enumerate(value))
    for key, inner in items:
        if (found := _nul_at(inner, (*location, key))) is not None:
            return found
    return None


def _refuse(field: str) -> ValidationFailed:
    return ValidationFailed(f"{field}: {NUL_REASON}", errors=[FieldError(field, NUL_REASON)])


def _is_json(content_type: str) -> bool:
    media = content_type.split(";")[0].strip().lower()
    kind, _, subtype = media.partition("/")
    return not media or (kind == "application" and (subtype == "json" or subtype.endswith("+json")))


async def refuse_unstorable_input(request: Request) -> None:
    for name, value in (*request.path_params.items(), *request.query_params.multi_items()):
        if NUL in name or NUL in str(value):
            raise _refuse(name)
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or route.body_field is None:
        return
    if any(isinstance(p.field_info, params.Form) for p in route.dependant.body_params):
        for name, value in (await request.form()).multi_items():
            if isinstance(value, str) and NUL in value:
                raise _refuse(name)
        return
    if not _is_json(request.headers.get("content-type", "")):
        raise UnsupportedMediaType("this operation reads a JSON body (application/json)")
    body = await request.body()  # already read by FastAPI: this is its copy
    if b"\\u0000" in body:
        try:
            location = _nul_at(json.loads(body))
        except ValueError:
            return  # not JSON: request validation names that
        if location is not None:
            raise _refuse(field_path(location))
