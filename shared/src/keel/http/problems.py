"""Every error leaves as RFC 9457 problem details, request validation included."""

from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from keel.errors import (
    PROBLEM_CONTENT_TYPE,
    PROBLEM_TYPE_BASE,
    AppError,
    FieldError,
    ValidationFailed,
    field_path,
)


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


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
