"""Every error leaves as RFC 9457 problem details, request validation included."""

import logging
from http import HTTPStatus

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException

from keel.driver_errors import app_error_for
from keel.errors import (
    PROBLEM_CONTENT_TYPE,
    PROBLEM_TYPE_BASE,
    AppError,
    FieldError,
    ValidationFailed,
    field_path,
)

logger = logging.getLogger(__name__)


class FieldErrorRead(BaseModel):
    field: str = Field(description="Dotted path of the field at fault, such as `data.mrr`")
    reason: str


class Problem(BaseModel):
    """RFC 9457 problem details: every error answer's body. Extensions (such as the first day
    a policy is in force) may follow the standard members."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="A URI reference naming the kind of problem")
    title: str
    status: int
    detail: str
    instance: str | None = Field(default=None, description="The request path")
    errors: list[FieldErrorRead] = Field(default_factory=list)


# What the database drivers raise: mapped to a problem when they stand for one (keel.driver_errors).
DRIVER_ERRORS = (DBAPIError, asyncpg.PostgresError, asyncpg.InterfaceError, OSError)


def problem_response(error: AppError, request: Request) -> JSONResponse:
    return JSONResponse(
        error.problem(instance=request.url.path),
        status_code=error.status,
        headers=error.headers,
        media_type=PROBLEM_CONTENT_TYPE,
    )


async def _app_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, AppError)
    return problem_response(error, request)


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = [FieldError(field_path(detail["loc"]), detail["msg"]) for detail in error.errors()]
    summary = "; ".join(f"{e.field}: {e.reason}" for e in errors)
    return problem_response(
        ValidationFailed(f"the request is not valid: {summary}", errors=errors), request
    )


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    title = HTTPStatus(error.status_code).phrase
    slug = title.lower().replace(" ", "-")
    body = {
        "type": f"{PROBLEM_TYPE_BASE}{slug}",
        "title": title,
        "status": error.status_code,
        "detail": str(error.detail),
        "instance": request.url.path,
    }
    return JSONResponse(
        body, status_code=error.status_code, headers=error.headers, media_type=PROBLEM_CONTENT_TYPE
    )


def internal_error(path: str) -> JSONResponse:
    """The answer to an unexpected error: no internals, only where to look (the request id)."""
    body = {
        "type": f"{PROBLEM_TYPE_BASE}internal-error",
        "title": "Internal error",
        "status": 500,
        "detail": "the server failed to answer; the error is logged with this request's id",
        "instance": path,
    }
    return JSONResponse(body, status_code=500, media_type=PROBLEM_CONTENT_TYPE)


async def _driver_error(request: Request, error: Exception) -> JSONResponse:
    mapped = app_error_for(error)
    if mapped is None:
        raise error  # ours: the middleware logs it and answers 500
    logger.warning("%s %s: %s", request.method, request.url.path, error)
    return problem_response(mapped, request)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    for driver_error in DRIVER_ERRORS:
        app.add_exception_handler(driver_error, _driver_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
