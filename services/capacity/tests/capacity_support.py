"""Capacity test support: leads as partners type them, the partner facts capacity consumes
(as the tier engine and activity-ingest publish them), and applying those facts directly."""

from datetime import date, datetime
from itertools import count
from typing import Any

from pydantic import BaseModel

from capacity.consumers import SUBSCRIPTION
from keel.db import SessionFactory
from keel.events.catalogue import EVENTS
from keel.events.payloads.account import PartnerRegisteredV1, PartnerType
from keel.events.payloads.tier import Tier, TierChangedV1
from keel.kafka.publisher import Message
from keel.testing.applying import apply_messages

_ids = count(1)
REGISTRATIONS = "/v1/partners/{}/registrations"


def lead(website: str, **fields: Any) -> dict[str, Any]:
    return {
        "website": website,
        "company": "Bäckerei Schmidt GmbH",
        "contact_name": "Anna Schmidt",
        "country": "DE",
        **fields,
    }


def message(type_name: str, payload: BaseModel, when: datetime) -> Message:
    """The message a producer puts on the topic."""
    return EVENTS.message(type_name, payload, id=f"ev-{next(_ids)}", source="test", time=when)


def partner_registered(partner_id: str, partner_type: PartnerType, when: datetime) -> Message:
    return message(
        "partner.registered",
        PartnerRegisteredV1(
            partner_id=partner_id,
            name=partner_id,
            partner_type=partner_type,
            employee_email_domain=f"{partner_id}.example",
            country="GB",
        ),
        when,
    )


def tier_changed(
    partner_id: str,
    tier: Tier | None,
    month: str,
    when: datetime,
    *,
    revision: int = 1,
    partner_type: PartnerType = PartnerType.SOLUTIONS,
) -> Message:
    return message(
        "tier.changed",
        TierChangedV1(
            partner_id=partner_id,
            month=month,
            revision=revision,
            tier=tier,
            previous_tier=None,
            partner_type=partner_type,
            model="points-2025",
            evaluated_on=date.fromisoformat(f"{month}-15"),
        ),
        when,
    )


async def apply_directly(sessions: SessionFactory, messages: list[Message]) -> None:
    """Apply events as the worker does, without Kafka: for tests whose subject is not messaging."""
    await apply_messages(SUBSCRIPTION, sessions, messages)
