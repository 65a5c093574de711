"""Events the tier engine applies: deals (S1), managed credit (M7 from the ledger), registrations
(S3), partner type and certification (T2), app usage (T2). Handlers check what could never be
applied (dead-lettered with the reason); the batch hook writes the batch's rows at once."""

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from keel.clock import Clock
from keel.events import topics
from keel.events.catalogue import (
    CLIENT_APPS_USED,
    DEAL_CLOSED,
    DOMAIN_DEREGISTERED,
    DOMAIN_EXPIRED,
    DOMAIN_REGISTERED,
    EVENTS,
    MANAGED_CREDIT_CHANGED,
    PARTNER_CERTIFICATION_CHANGED,
    PARTNER_REGISTERED,
)
from keel.events.registry import Event
from keel.kafka.consumer import Subscription
from tier_engine import recording, repository
from tier_engine.config import SERVICE_NAME
from tier_engine.domain.policy import TierPolicy

PARTNER_FACTS = (PARTNER_REGISTERED, PARTNER_CERTIFICATION_CHANGED)
ENDINGS = (DOMAIN_DEREGISTERED, DOMAIN_EXPIRED)


def subscription(policy: TierPolicy, clock: Clock) -> Subscription:
    async def check_deal(session: AsyncSession, event: Event[Any]) -> None:
        recording.check_deal(policy, event)

    async def check_credit(session: AsyncSession, event: Event[Any]) -> None:
        credit = event.payload
        recording.check_currency(policy, credit.currency, credit.effective_on)

    async def apply(session: AsyncSession, events: Sequence[Event[Any]]) -> None:
        by_type: dict[str, list[Event[Any]]] = defaultdict(list)
        for event in events:
            by_type[event.envelope.type].append(event)
        now = clock.now()
        # Each deal is first stored as the first sale of its product line; refresh_lines then
        # finds the line's earliest sale and rates its upsells again (P2).
        deals = [
            recording.deal_row(
                policy, event, line_first_sold_on=recording.utc_day(event.time), recorded_at=now
            )
            for event in by_type[DEAL_CLOSED]
        ]
        await repository.append(session, repository.DEAL, deals)
        await repository.refresh_lines(session, policy, repository.lines_of(deals))
        credits = [recording.credit_row(event) for event in by_type[MANAGED_CREDIT_CHANGED]]
        await repository.append(session, repository.CREDIT, credits)
        registered = [recording.registration_row(event) for event in by_type[DOMAIN_REGISTERED]]
        await repository.append(session, repository.REGISTRATION, registered)
        ended = [recording.ending_row(event) for kind in ENDINGS for event in by_type[kind]]
        await repository.end_registrations(session, ended)
        facts = [recording.partner_fact_row(event) for k in PARTNER_FACTS for event in by_type[k]]
        await repository.append(session, repository.PARTNER_FACT, facts)
        apps = [recording.apps_row(event) for event in by_type[CLIENT_APPS_USED]]
        await repository.append(session, repository.CLIENT_APPS, apps)

    return Subscription(
        name=SERVICE_NAME,
        topics=[topics.CREDIT.name, topics.DEAL.name, topics.CAPACITY.name, topics.ACCOUNT.name],
        handlers={DEAL_CLOSED: check_deal, MANAGED_CREDIT_CHANGED: check_credit},
        registry=EVENTS,
        after_batch=apply,
    )
