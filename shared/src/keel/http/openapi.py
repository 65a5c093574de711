"""The OpenAPI document names every error answer (issue 12 point 5).

Each operation under /v1 documents the problem answers that apply to it, as
`application/problem+json` with the `Problem` schema: 503 (the database is away) for all, 401 and
403 where a token is needed, 422 where there is input, 404 where the path names a resource, 409
for changes, 400 and 415 where a body is read. A route adds others with `problem_responses(...)`;
any 4xx or 5xx a route declares is rewritten to problem details too.
"""

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from keel.errors import PROBLEM_CONTENT_TYPE
from keel.http.problems import Problem

PROBLEM_REF = "#/components/schemas/Problem"
CHANGING = {"post", "put", "patch", "delete"}
# FastAPI's own 422 body, replaced by problem details.
FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route whose error answers go beyond the ones documented for all."""
    return {status: {"description": HTTPStatus(status).phrase} for status in statuses}


def _statuses(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    found = {HTTPStatus.SERVICE_UNAVAILABLE.value}
    if operation.get("security"):
        found |= {401, 403}
    if operation.get("parameters") or operation.get("requestBody"):
        found.add(422)
    if "{" in path:
        found.add(404)
    if method in CHANGING:
        found.add(409)
    if operation.get("requestBody"):
        found |= {400, 415}  # 400: a body that cannot be decoded at all
    found |= {int(status) for status in operation.get("responses", {}) if int(status) >= 400}
    return found


def document_problems(document: dict[str, Any], api_prefix: str) -> dict[str, Any]:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    for path, item in document.get("paths", {}).items():
        if not path.startswith(api_prefix):
            continue
        for method, operation in item.items():
            responses = operation.setdefault("responses", {})
            for status in sorted(_statuses(path, method, operation)):
                responses[str(status)] = {
                    "description": HTTPStatus(status).phrase,
                    "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": PROBLEM_REF}}},
                }
    for name in FASTAPI_VALIDATION_SCHEMAS:
        schemas.pop(name, None)
    return document


def install_problem_documentation(app: FastAPI, api_prefix: str) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_problems(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    description=app.description,
                    routes=app.routes,
                ),
                api_prefix,
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
