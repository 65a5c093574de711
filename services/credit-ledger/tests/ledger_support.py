"""Ledger test support: upstream events as activity-ingest would publish them, and reading
the ledger back."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from credit_ledger.consumers import subscription as ledger_subscription
from credit_ledger.domain.policy import ManagedPolicy
from credit_ledger.tables import LedgerEntry
from keel.clock import Clock
from keel.db import SessionFactory
from keel.events import catalogue
from keel.events.payloads.account import (
    ClientSubscriptionChangedV1,
    ClientUserV1,
    ClientV1,
    PartnerUserAddedV1,
    PartnerUserChangedV1,
)
from keel.events.payloads.activity import ActivityPerformedV1
from keel.kafka.publisher import Message
from keel.testing.applying import apply_messages
from keel.testing.samples import partner_registered, produced


def partner(partner_id: str, domain: str, when: datetime) -> Message:
    return partner_registered(partner_id, when, employee_email_domain=domain)


def employee(partner_id: str, user_id: str, email: str, when: datetime) -> Message:
    return produced(
        catalogue.PARTNER_USER_ADDED,
        PartnerUserAddedV1(
            partner_id=partner_id, user_id=user_id, email=email, partner_employee=True
        ),
        when,
    )


def user_change(kind: str, partner_id: str, user_id: str, when: datetime) -> Message:
    return produced(
        f"partner_user.{kind}", PartnerUserChangedV1(partner_id=partner_id, user_id=user_id), when
    )


def client(client_id: str, when: datetime, country: str = "US") -> Message:
    return produced(
        catalogue.CLIENT_CREATED,
        ClientV1(
            client_id=client_id,
            name=client_id,
            website_domain=f"{client_id}.com",
            country=country,
            currency="USD",
        ),
        when,
    )


def subscription(client_id: str, mrr: str, when: datetime, currency: str = "USD") -> Message:
    return produced(
        catalogue.CLIENT_SUBSCRIPTION_CHANGED,
        ClientSubscriptionChangedV1(client_id=client_id, mrr=Decimal(mrr), currency=currency),
        when,
    )


def member(client_id: str, user_id: str, when: datetime, added: bool = True) -> Message:
    kind = catalogue.CLIENT_USER_ADDED if added else catalogue.CLIENT_USER_REMOVED
    return produced(kind, ClientUserV1(client_id=client_id, user_id=user_id), when)


def activity(
    client_id: str, user_id: str, email: str, action: str, when: datetime, event_id: str = ""
) -> Message:
    return produced(
        catalogue.ACTIVITY_PERFORMED,
        ActivityPerformedV1(
            user_id=user_id,
            user_email=email,
            client_id=client_id,
            tool=action.split(".")[0],
            action=action,
        ),
        when,
        event_id,
    )


async def ledger_entries(engine: AsyncEngine) -> list[LedgerEntry]:
    async with engine.connect() as connection:
        rows = await connection.execute(select(LedgerEntry).order_by(LedgerEntry.id))  # type: ignore[arg-type]
        return [LedgerEntry.model_validate(row._mapping) for row in rows]


async def apply_directly(sessions: SessionFactory, clock: Clock, messages: list[Message]) -> None:
    """Apply events as the worker does, without Kafka: for tests whose subject is not messaging."""
    await apply_messages(ledger_subscription(ManagedPolicy.load(), clock), sessions, messages)
