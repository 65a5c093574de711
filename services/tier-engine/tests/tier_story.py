"""Tier-engine test support: upstream and ledger events applied the way the worker applies them
(checks per event, then the batch hook, in one transaction on the real database)."""

from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import count
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select

from keel.clock import FixedClock
from keel.events.catalogue import EVENTS
from keel.events.envelope import CloudEvent
from keel.events.payloads.account import (
    ClientAppsUsedV1,
    PartnerCertificationChangedV1,
    PartnerRegisteredV1,
    PartnerType,
)
from keel.events.payloads.capacity import DomainRegisteredV1, DomainRegistrationEndedV1
from keel.events.payloads.credit import ManagedCreditChangedV1
from keel.events.payloads.deal import DealClosedV1, DealKind, DealType
from keel.events.registry import Event
from keel.runtime import Runtime
from keel.settings import Settings
from keel.tables import OUTBOX
from keel.testing.applying import apply_messages
from tier_engine.consumers import subscription
from tier_engine.domain.calendar import Month
from tier_engine.domain.policy import TierPolicy
from tier_engine.repository import ROLLUP_PARTNER
from tier_engine.service.rollups import Outcome, run_rollup

_ids = count(1)
POLICY = TierPolicy.load()


def moment(day: str, hour: int = 12) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=UTC).replace(
        hour=hour
    )


def event(type_name: str, payload: BaseModel, when: datetime) -> Event[Any]:
    envelope = EVENTS.envelope(type_name, payload, id=f"ev-{next(_ids)}", source="test", time=when)
    return EVENTS.parse(envelope)


def deal_closed(
    partner_id: str,
    client_id: str,
    mrr: str,
    closed: str,
    *,
    deal_type: DealType = DealType.SOURCED,
    kind: DealKind = DealKind.NEW,
    currency: str = "USD",
    country: str = "US",
    line: str = "marketing_hub",
    deal_id: str | None = None,
) -> Event[Any]:
    payload = DealClosedV1(
        deal_id=deal_id or f"d-{next(_ids)}",
        partner_id=partner_id,
        client_id=client_id,
        client_domain=f"www.{client_id}.com",
        client_country=country,
        currency=currency,
        deal_type=deal_type,
        product_line=line,
        kind=kind,
        mrr_delta=Decimal(mrr),
    )
    return event("deal.closed", payload, moment(closed))


class TierStory:
    """Events for one tier-engine database, applied in batches; rollups run at the clock."""

    def __init__(self, settings: Settings, clock: FixedClock) -> None:
        self.runtime = Runtime.create(settings, clock)
        self.clock = clock
        self.pending: list[Event[Any]] = []
        self.subscription = subscription(POLICY, clock)

    def add(self, *events: Event[Any]) -> "TierStory":
        self.pending.extend(events)
        return self

    def partner(
        self,
        partner_id: str,
        *,
        certified: bool = True,
        partner_type: PartnerType = PartnerType.SOLUTIONS,
        at: str = "2018-06-01",
    ) -> "TierStory":
        registered = PartnerRegisteredV1(
            partner_id=partner_id,
            name=partner_id,
            partner_type=partner_type,
            employee_email_domain=f"{partner_id}.example",
            country="GB",
        )
        return self.add(
            event("partner.registered", registered, moment(at)),
            event(
                "partner.certification_changed",
                PartnerCertificationChangedV1(partner_id=partner_id, certified=certified),
                moment(at),
            ),
        )

    def deal(
        self, partner_id: str, client_id: str, mrr: str, closed: str, **kw: Any
    ) -> "TierStory":
        """A deal under a registration of the client's domain held since the day before (S3)."""
        self.registration(partner_id, client_id, since="2018-01-01")
        return self.add(deal_closed(partner_id, client_id, mrr, closed, **kw))

    def registration(
        self, partner_id: str, client_id: str, since: str, until: str | None = None
    ) -> "TierStory":
        registration_id = f"r-{partner_id}-{client_id}-{since}"
        domain = f"{client_id}.com"
        self.add(
            event(
                "domain.registered",
                DomainRegisteredV1(
                    registration_id=registration_id,
                    partner_id=partner_id,
                    domain=domain,
                    company=client_id,
                    country="US",
                    registered_at=moment(since, 0),
                ),
                moment(since, 0),
            )
        )
        if until:
            self.add(
                event(
                    "domain.deregistered",
                    DomainRegistrationEndedV1(
                        registration_id=registration_id,
                        partner_id=partner_id,
                        domain=domain,
                        ended_at=moment(until, 0),
                    ),
                    moment(until, 0),
                )
            )
        return self

    def credit(
        self,
        partner_id: str,
        client_id: str,
        amount: str,
        effective_on: str,
        *,
        currency: str = "USD",
        country: str = "US",
        denominator: int = 1,
        recorded: str | None = None,
    ) -> "TierStory":
        payload = ManagedCreditChangedV1(
            partner_id=partner_id,
            client_id=client_id,
            effective_on=date.fromisoformat(effective_on),
            amount=Decimal(amount),
            currency=currency,
            denominator=denominator,
            client_country=country,
            rule="M7" if Decimal(amount) else "M2",
            cause=["test/activity"],
            recorded_at=moment(recorded or effective_on),
        )
        return self.add(event("managed_credit.changed", payload, moment(effective_on, 0)))

    def apps(self, client_id: str, apps: list[str], at: str) -> "TierStory":
        used = ClientAppsUsedV1(client_id=client_id, apps=apps)
        return self.add(event("client.apps_used", used, moment(at)))

    async def apply(self) -> None:
        events, self.pending = self.pending, []
        messages = [item.message() for item in events]
        await apply_messages(self.subscription, self.runtime.sessions, messages)

    async def rollup(self, month: str) -> Outcome:
        await self.apply()
        async with self.runtime.sessions() as session:
            return await run_rollup(session, POLICY, Month.parse(month), self.clock.now())

    async def document(self, partner_id: str, month: str, revision: int | None = None) -> Any:
        async with self.runtime.sessions() as session:
            query = (
                select(ROLLUP_PARTNER.c.document)
                .where(ROLLUP_PARTNER.c.partner_id == partner_id, ROLLUP_PARTNER.c.month == month)
                .order_by(ROLLUP_PARTNER.c.revision.desc())
            )
            if revision is not None:
                query = query.where(ROLLUP_PARTNER.c.revision == revision)
            return (await session.execute(query.limit(1))).scalar_one()

    async def outbox(self) -> list[str]:
        """The types of the messages waiting in the outbox, in order."""
        async with self.runtime.sessions() as session:
            rows = await session.execute(select(OUTBOX.c.value).order_by(OUTBOX.c.id))
            return [CloudEvent.from_json(row.value).type for row in rows]

    async def close(self) -> None:
        await self.runtime.close()
