"""Events the tier engine applies: deals (S1), managed credit (M7 from the ledger), registrations
(S3), partner type and certification (T2), app usage (T2). Handlers check what could never be
applied (dead-lettered with the reason); the batch hook writes the batch's rows at once."""

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from keel.clock import Clock
from keel.events import topics
from keel.events.catalogue import EVENTS
from keel.events.registry import Event
from keel.kafka.consumer import Subscription
from tier_engine import recording, repository
from tier_engine.domain.policy import TierPolicy

PARTNER_FACTS = ("partner.registered", "partner.certification_changed")
ENDINGS = ("domain.deregistered", "domain.expired")


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
        deals = [
            recording.deal_row(policy, event, recording.utc_day(event.time), now)
            for event in by_type["deal.closed"]
        ]
        await repository.append(session, repository.DEAL, deals)
        await repository.refresh_lines(session, policy, repository.lines_of(deals))
        credits = [recording.credit_row(event) for event in by_type["managed_credit.changed"]]
        await repository.append(session, repository.CREDIT, credits)
        registered = [recording.registration_row(event) for event in by_type["domain.registered"]]
        await repository.append(session, repository.REGISTRATION, registered)
        ended = [recording.ending_row(event) for kind in ENDINGS for event in by_type[kind]]
        await repository.end_registrations(session, ended)
        facts = [recording.partner_fact_row(event) for k in PARTNER_FACTS for event in by_type[k]]
        await repository.append(session, repository.PARTNER_FACT, facts)
        apps = [recording.apps_row(event) for event in by_type["client.apps_used"]]
        await repository.append(session, repository.CLIENT_APPS, apps)

    return Subscription(
        name="tier-engine",
        topics=[topics.CREDIT.name, topics.DEAL.name, topics.CAPACITY.name, topics.ACCOUNT.name],
        handlers={"deal.closed": check_deal, "managed_credit.changed": check_credit},
        registry=EVENTS,
        after_batch=apply,
    )
