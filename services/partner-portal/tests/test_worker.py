"""The portal's consumer on Kafka and PostgreSQL: each fact applied once, the latest by event
time kept whatever the arrival order, a correction of the ledger replacing its entry."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlmodel import col

from keel.events.catalogue import CLIENT_CREATED, EVENTS
from keel.events.payloads.account import (
    ClientRenewalDecidedV1,
    ClientSubscriptionChangedV1,
    ClientV1,
    PartnerTeamAssignedV1,
    PartnerTeamUnassignedV1,
    RenewalOutcome,
)
from keel.events.payloads.credit import ManagedCreditChangedV1
from keel.events.registry import Event
from keel.kafka.publisher import Message
from keel.runtime import Runtime
from keel.testing.running import eventually, publish, running
from keel.testing.samples import produced
from partner_portal.config import PortalServiceSettings
from partner_portal.consumers import client_changed
from partner_portal.repository import team
from partner_portal.tables import (
    Client,
    ClientSubscription,
    ManagedCredit,
    RenewalDecision,
    TeamMember,
)
from partner_portal.worker import build_worker


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T10:00:00+00:00")


def message(event_id: str, type_name: str, payload: BaseModel, day: str) -> Message:
    return produced(type_name, payload, at(day), event_id)


def subscription(event_id: str, mrr: str, day: str) -> Message:
    payload = ClientSubscriptionChangedV1(
        client_id="c-1", mrr=Decimal(mrr), currency="USD", contact_tier=f"Contacts {mrr}"
    )
    return message(event_id, "client.subscription_changed", payload, day)


def credit(event_id: str, amount: str, recorded: str) -> Message:
    payload = ManagedCreditChangedV1(
        partner_id="p-1",
        client_id="c-1",
        effective_on=date(2025, 3, 1),
        amount=Decimal(amount),
        currency="USD",
        denominator=1,
        rule="M7",
        cause=["test/x"],
        recorded_at=at(recorded),
    )
    return message(event_id, "managed_credit.changed", payload, "2025-03-01")


async def test_facts_are_kept_latest_by_event_time_and_applied_once(
    portal_settings: PortalServiceSettings,
) -> None:
    pdm = {"partner_id": "p-1", "role": "partner_development_manager", "email": "pat@v.example"}
    messages = [
        subscription("s-new", "900", "2025-03-02"),
        subscription("s-old", "100", "2025-03-01"),  # late: older than what is known
        subscription("s-new", "900", "2025-03-02"),  # a duplicate
        message(
            "r-decided",  # decided before its schedule arrives: kept for it
            "client.renewal_decided",
            ClientRenewalDecidedV1(
                client_id="c-1", renewal_date=date(2025, 5, 1), outcome=RenewalOutcome.CANCELLED
            ),
            "2025-04-10",
        ),
        credit("m-corrected", "0", recorded="2025-03-05"),
        credit("m-first", "500", recorded="2025-03-02"),  # recorded earlier: replaced
        message(
            "t-on",
            "partner.team_assigned",
            PartnerTeamAssignedV1(**pdm, name="Pat"),
            "2024-06-01",
        ),
        message("t-off", "partner.team_unassigned", PartnerTeamUnassignedV1(**pdm), "2024-09-01"),
    ]
    runtime = Runtime.create(portal_settings)
    await publish(portal_settings.kafka, messages)

    async def applied() -> list[Any] | None:
        async with runtime.sessions() as session:
            found = [
                (await session.scalars(select(ClientSubscription))).all(),
                (await session.scalars(select(RenewalDecision))).all(),
                (await session.scalars(select(ManagedCredit))).all(),
                (
                    await session.scalars(
                        select(TeamMember).where(col(TeamMember.unassigned_at).is_not(None))
                    )
                ).all(),
            ]
        return found if all(found) else None

    try:
        async with running(build_worker(runtime)):
            [subscriptions, decisions, credits, _] = await eventually(applied)
            async with runtime.sessions() as session:
                on_team = await team(session, "p-1")
    finally:
        await runtime.close()
    assert [(s.mrr, s.contact_tier) for s in subscriptions] == [(Decimal(900), "Contacts 900")]
    assert [(d.renewal_date, d.outcome) for d in decisions] == [(date(2025, 5, 1), "cancelled")]
    assert [(c.managed, c.recorded_at) for c in credits] == [(False, at("2025-03-05"))]
    assert on_team == []  # unassigned after it was assigned


class _ClientWithANewField(ClientV1):
    """client.created v1 after an additive change the portal does not keep."""

    segment: str = "smb"


async def test_a_payload_field_the_portal_does_not_keep_does_not_break_the_insert(
    portal_settings: PortalServiceSettings,
) -> None:
    client = ClientV1(
        client_id="c-9", name="Nine", website_domain="nine.de", country="DE", currency="EUR"
    )
    published = EVENTS.parse(
        EVENTS.envelope(CLIENT_CREATED, client, id="c-9", source="test", time=at("2025-03-01"))
    )
    event = Event(published.envelope, _ClientWithANewField(**client.model_dump()), published.spec)
    runtime = Runtime.create(portal_settings)
    try:
        async with runtime.sessions() as session:
            await client_changed(session, event)
            await session.commit()
            [kept] = (await session.scalars(select(Client))).all()
    finally:
        await runtime.close()
    assert (kept.client_id, kept.name, kept.currency) == ("c-9", "Nine", "EUR")
