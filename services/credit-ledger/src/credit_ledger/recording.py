"""Upstream events and client-access actions as fact rows (what the M-rules read)."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from keel.events import catalogue
from keel.events.registry import Event

# Event types whose facts the M-rules use; the others on the topics are acknowledged and ignored.
RECORDED = frozenset(
    {
        catalogue.ACTIVITY_PERFORMED,
        catalogue.PARTNER_REGISTERED,
        catalogue.PARTNER_EMPLOYEE_DOMAIN_CHANGED,
        catalogue.PARTNER_USER_ADDED,
        catalogue.PARTNER_USER_DEACTIVATED,
        catalogue.PARTNER_USER_REACTIVATED,
        catalogue.PARTNER_USER_REMOVED,
        catalogue.CLIENT_CREATED,
        catalogue.CLIENT_UPDATED,
        catalogue.CLIENT_SUBSCRIPTION_CHANGED,
        catalogue.CLIENT_USER_ADDED,
        catalogue.CLIENT_USER_REMOVED,
    }
)

# Facts stated through this service's API (the client access manager, M4 and M5).
LINKED, UNLINKED, ACCESS_REMOVED, SERVICES_ENDED = (
    "link.added",
    "link.removed",
    "access.removed",
    "services.ended",
)


def fact_row(
    *,
    source: str,
    event_id: str,
    kind: str,
    at: datetime,
    payload: BaseModel | None = None,
    client_id: str | None = None,
    partner_id: str | None = None,
    user_id: str | None = None,
) -> dict[str, Any]:
    """A fact row, its data as JSON text; the ids come from the payload unless given."""
    return {
        "source": source,
        "event_id": event_id,
        "kind": kind,
        "at": at,
        "client_id": client_id or getattr(payload, "client_id", None),
        "partner_id": partner_id or getattr(payload, "partner_id", None),
        "user_id": user_id or getattr(payload, "user_id", None),
        "data": payload.model_dump_json() if payload is not None else "{}",
    }


def event_fact(event: Event[Any]) -> dict[str, Any]:
    return fact_row(
        source=event.envelope.source,
        event_id=event.envelope.id,
        kind=event.envelope.type,
        at=event.time,
        payload=event.payload,
    )
