import json
from typing import Any

from fastapi import APIRouter, Request, status

from activity_ingest import service
from activity_ingest.dependencies import IngestSettingsDep, ProducerDep
from activity_ingest.schemas import IngestReport
from keel.errors import (
    BadRequest,
    FieldError,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)
from keel.events.envelope import BATCH_CONTENT_TYPE, STRUCTURED_CONTENT_TYPE
from keel.http.app import API_PREFIX
from keel.http.dependencies import ClockDep, SessionDep
from keel.http.openapi import problem_responses

router = APIRouter(prefix=API_PREFIX, tags=["events"])

SINGLE_TYPES = {STRUCTURED_CONTENT_TYPE, "application/json"}


@router.post(
    "/events",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=IngestReport,
    responses=problem_responses(413),
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": (
                "One structured-mode CloudEvent (`application/cloudevents+json` or "
                "`application/json`) or a batch of 1 to 1000 "
                "(`application/cloudevents-batch+json`, or a JSON array). At most 5 MiB."
            ),
            "content": {
                STRUCTURED_CONTENT_TYPE: {"schema": {"type": "object"}},
                BATCH_CONTENT_TYPE: {"schema": {"type": "array", "items": {"type": "object"}}},
            },
        }
    },
)
async def submit_events(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    settings: IngestSettingsDep,
    _: ProducerDep,
) -> IngestReport:
    """Accept upstream events: `accepted` means durably logged and bound for Kafka.

    Each event gets a result, in order: `accepted`, `duplicate` (same `source` and `id` seen
    before; not published again) or `rejected` with the fields at fault. In a batch, valid events
    are accepted even when others are rejected. A single event that is rejected answers 422
    (problem details naming each field) instead of 202.
    """
    body = await _read_limited(request, settings.max_body_bytes)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in SINGLE_TYPES | {BATCH_CONTENT_TYPE}:
        raise UnsupportedMediaType(
            f"content type {content_type or '(none)'!r} is not accepted; use "
            f"{STRUCTURED_CONTENT_TYPE}, application/json or {BATCH_CONTENT_TYPE}"
        )
    try:
        parsed: Any = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BadRequest(f"the body is not valid JSON: {error}") from error
    items = _items(parsed, content_type, settings.max_batch_events)
    report = await service.ingest(session, items, now=clock.now(), settings=settings)
    if not isinstance(parsed, list) and report.rejected:
        # A lone event that is refused is the request's failure: a 422 any HTTP client notices.
        [result] = report.results
        raise ValidationFailed(
            "the event was rejected",
            errors=[FieldError(e.field, e.reason) for e in result.errors],
            extensions={"results": [result.model_dump()]},
        )
    return report


def _items(parsed: Any, content_type: str, max_batch: int) -> list[Any]:
    if isinstance(parsed, list):
        if not 1 <= len(parsed) <= max_batch:
            raise ValidationFailed(f"a batch holds 1 to {max_batch} events, got {len(parsed)}")
        return parsed
    if content_type == BATCH_CONTENT_TYPE:
        raise BadRequest("a batch must be a JSON array of events")
    if isinstance(parsed, dict):
        return [parsed]
    raise BadRequest("the body must be a CloudEvent object or an array of them")


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
