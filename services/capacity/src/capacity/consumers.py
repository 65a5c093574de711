"""Events this service applies; each handler runs in the batch transaction, once per event id."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from capacity import repository
from capacity.config import SERVICE_NAME
from keel.events import topics
from keel.events.catalogue import EVENTS, PARTNER_REGISTERED, TIER_CHANGED
from keel.events.payloads.account import PartnerRegisteredV1
from keel.events.payloads.tier import TierChangedV1
from keel.events.registry import Event
from keel.kafka.consumer import Subscription


async def partner_registered(session: AsyncSession, event: Event[Any]) -> None:
    """The partner type decides referral limits and expiry (C2, C4)."""
    payload: PartnerRegisteredV1 = event.payload
    await repository.record_partner_type(session, payload.partner_id, payload.partner_type)


async def tier_changed(session: AsyncSession, event: Event[Any]) -> None:
    """C6: the limit follows the tier of the latest (month, revision)."""
    payload: TierChangedV1 = event.payload
    await repository.record_tier(
        session,
        partner_id=payload.partner_id,
        partner_type=payload.partner_type,
        tier=payload.tier,
        month=payload.month,
        revision=payload.revision,
    )


SUBSCRIPTION = Subscription(
    name=SERVICE_NAME,
    topics=[topics.TIER.name, topics.ACCOUNT.name],
    handlers={PARTNER_REGISTERED: partner_registered, TIER_CHANGED: tier_changed},
    registry=EVENTS,
)
