"""Events the ledger applies: every fact is recorded once per event id, then each client the
batch touched is recomputed from its facts and the ledger gets what changed (M1-M8)."""

from collections.abc import Sequence
from datetime import UTC
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from credit_ledger import ledger, repository
from credit_ledger.config import SERVICE_NAME
from credit_ledger.domain.policy import ManagedPolicy
from credit_ledger.ledger import Touch
from credit_ledger.recording import RECORDED, event_fact
from keel.clock import Clock
from keel.events import topics
from keel.events.catalogue import EVENTS
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


def subscription(policy: ManagedPolicy, clock: Clock) -> Subscription:
    async def apply(session: AsyncSession, events: Sequence[Event[Any]]) -> None:
        """Per batch, not per event: one insert for the facts, one recomputation per client."""
        recorded = [event for event in events if event.envelope.type in RECORDED]
        await repository.record_facts(session, [event_fact(event) for event in recorded])
        touched = await touched_clients(session, recorded)
        await ledger.refresh_clients(session, touched, policy=policy, recorded_at=clock.now())

    return Subscription(
        name=SERVICE_NAME,
        topics=[topics.ACTIVITY.name, topics.ACCOUNT.name],
        handlers={},
        registry=EVENTS,
        after_batch=apply,
    )
