"""Events the ledger applies: every fact is recorded once per event id; activities go through
their client's interval state, any other fact derives its clients again; the ledger gets what
changed (M1-M8). One transaction per batch (the consumer loop's)."""

from collections.abc import Sequence
from datetime import UTC
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from credit_ledger import repository
from credit_ledger.config import SERVICE_NAME
from credit_ledger.domain.facts import Activity
from credit_ledger.domain.policy import ManagedPolicy
from credit_ledger.recording import RECORDED, event_fact
from credit_ledger.refresh import NewActivity, Touch, refresh
from keel.clock import Clock
from keel.events import topics
from keel.events.catalogue import ACTIVITY_PERFORMED, EVENTS
from keel.events.registry import Event
from keel.kafka.consumer import Subscription


async def touched_clients(session: AsyncSession, events: Sequence[Event[Any]]) -> dict[str, Touch]:
    """Each client whose figures the events may change: from which day, by which events."""
    touched: dict[str, Touch] = {}
    for event in events:
        reference = f"{event.envelope.source}/{event.envelope.id}"
        payload = event.payload
        if (client_id := getattr(payload, "client_id", None)) is not None:
            clients = {client_id}
        elif event.envelope.type.startswith("partner_user."):
            clients = await repository.clients_of_users(session, [payload.user_id])
        else:  # the partner's employee domain: every client of its users (M4)
            clients = await repository.clients_of_partners(session, [payload.partner_id])
        day = event.time.astimezone(UTC).date()
        for client in clients:
            touched.setdefault(client, Touch(day, [])).add(day, reference)
    return touched


def _new_activity(event: Event[Any]) -> NewActivity:
    payload = event.payload
    activity = Activity(
        event.envelope.id, payload.user_id, payload.tool, payload.action, event.time
    )
    return NewActivity(payload.client_id, activity, f"{event.envelope.source}/{event.envelope.id}")


def subscription(policy: ManagedPolicy, clock: Clock) -> Subscription:
    async def apply(session: AsyncSession, events: Sequence[Event[Any]]) -> None:
        """Per batch, not per event: one insert for the facts, one pass per client."""
        recorded = [event for event in events if event.envelope.type in RECORDED]
        connection = await repository.driver(session)
        await repository.record_facts(connection, [event_fact(event) for event in recorded])
        activities = [event for event in recorded if event.envelope.type == ACTIVITY_PERFORMED]
        others = [event for event in recorded if event.envelope.type != ACTIVITY_PERFORMED]
        await refresh(
            session,
            derived=await touched_clients(session, others),
            activities=[_new_activity(event) for event in activities],
            policy=policy,
            recorded_at=clock.now(),
        )

    return Subscription(
        name=SERVICE_NAME,
        topics=[topics.ACTIVITY.name, topics.ACCOUNT.name],
        handlers={},
        registry=EVENTS,
        after_batch=apply,
    )
