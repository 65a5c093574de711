from functools import cache

from fastapi import APIRouter, Response

from activity_ingest.schemas import EventTypeCatalogue, EventTypeRead
from keel.events.asyncapi import asyncapi_document, render
from keel.events.catalogue import UPSTREAM_EVENTS, example_envelope
from keel.http.app import API_PREFIX
from keel.http.dependencies import PrincipalDep

router = APIRouter(prefix=API_PREFIX, tags=["events"])


@router.get("/event-types", response_model=EventTypeCatalogue, response_model_by_alias=True)
async def list_event_types(_: PrincipalDep) -> EventTypeCatalogue:
    """Every event type this service accepts: topic, key, JSON Schema of `data`, an example.

    Generated from the shared payload models, the same ones that validate submissions.
    """
    return EventTypeCatalogue(
        event_types=[
            EventTypeRead(
                type=spec.name,
                version=spec.version,
                topic=spec.topic,
                key=spec.key,
                dataschema=spec.dataschema,
                data_schema=spec.json_schema(),
                example=example_envelope(spec),
            )
            for spec in UPSTREAM_EVENTS
        ]
    )


@cache
def _asyncapi_json() -> bytes:
    return render(asyncapi_document()).encode()


@router.get(
    "/asyncapi.json",
    response_class=Response,
    responses={200: {"content": {"application/json": {"schema": {"type": "object"}}}}},
)
async def get_asyncapi(_: PrincipalDep) -> Response:
    """The AsyncAPI 3.0 document of every topic, message, key and header (`traceparent`,
    `dlq-*`), from the same catalogue as `/v1/event-types`; also in `docs/asyncapi.json`."""
    return Response(_asyncapi_json(), media_type="application/json")
