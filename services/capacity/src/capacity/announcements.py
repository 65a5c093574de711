"""The events capacity publishes on `capacity.events.v1`, keyed by partner id, via the outbox."""

from datetime import datetime
from typing import Any

from capacity.config import SERVICE_NAME
from capacity.tables import Registration
from keel.events.catalogue import DOMAIN_REGISTERED, EVENTS
from keel.events.payloads.capacity import DomainRegisteredV1, DomainRegistrationEndedV1
from keel.kafka.publisher import Message


def registered(registration: Registration) -> Message:
    payload = DomainRegisteredV1(
        registration_id=registration.id,
        partner_id=registration.partner_id,
        domain=registration.domain,
        company=registration.company,
        country=registration.country,
        registered_at=registration.registered_at,
        expires_at=registration.expires_at,
    )
    return _message(DOMAIN_REGISTERED, payload, registration.id, registration.registered_at)


def ended(type_name: str, row: Any) -> Message:
    """`domain.deregistered` (C5) or `domain.expired` (C4), at the moment it ended; `row` is a
    registration (or a row of its id, partner_id, domain and ended_at) that has ended."""
    ended_at: datetime = row.ended_at
    payload = DomainRegistrationEndedV1(
        registration_id=row.id, partner_id=row.partner_id, domain=row.domain, ended_at=ended_at
    )
    return _message(type_name, payload, row.id, ended_at)


def _message(type_name: str, payload: Any, registration_id: str, at: datetime) -> Message:
    return EVENTS.message(
        type_name,
        payload,
        id=f"{registration_id}.{type_name.removeprefix('domain.')}",
        source=SERVICE_NAME,
        time=at,
        subject=payload.domain,
    )
