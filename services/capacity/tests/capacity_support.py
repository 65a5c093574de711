"""Capacity test support: leads as partners type them, the partner facts capacity consumes
(as the tier engine and activity-ingest publish them), and the stage the tests act on."""

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import httpx

from capacity.consumers import SUBSCRIPTION
from capacity.worker import build_worker
from keel.clock import FixedClock
from keel.events import topics
from keel.events.catalogue import EVENTS, TIER_CHANGED
from keel.events.envelope import CloudEvent
from keel.events.payloads.account import PartnerType
from keel.events.payloads.tier import Tier, TierChangedV1
from keel.kafka.publisher import Message
from keel.runtime import Runtime
from keel.settings import Settings
from keel.testing.applying import apply_messages
from keel.testing.running import publish, read_topic, running
from keel.testing.samples import produced

REGISTRATIONS = "/v1/partners/{}/registrations"


def lead(website: str, **fields: Any) -> dict[str, Any]:
    return {
        "website": website,
        "company": "Bäckerei Schmidt GmbH",
        "contact_name": "Anna Schmidt",
        "country": "DE",
        **fields,
    }


def tier_changed(
    partner_id: str,
    tier: Tier | None,
    month: str,
    when: datetime,
    *,
    revision: int = 1,
    partner_type: PartnerType = PartnerType.SOLUTIONS,
) -> Message:
    return produced(
        TIER_CHANGED,
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


@dataclass(frozen=True)
class Stage:
    """The capacity app as an admin calls it, its clock, its database and the broker its worker
    reads and writes."""

    settings: Settings
    api: httpx.AsyncClient
    clock: FixedClock
    runtime: Runtime
    admin: dict[str, str]

    async def register(
        self,
        partner_id: str,
        website: str,
        *,
        headers: dict[str, str] | None = None,
        **fields: Any,
    ) -> httpx.Response:
        """Register a lead, as the admin unless other headers are given."""
        return await self.api.post(
            REGISTRATIONS.format(partner_id),
            json=lead(website, **fields),
            headers=self.admin if headers is None else headers,
        )

    async def register_many(self, partner_id: str, count: int) -> None:
        """Register lead-0.com, lead-1.com, ... for the partner; each must be accepted."""
        for n in range(count):
            answer = await self.register(partner_id, f"lead-{n}.com")
            assert answer.status_code == 201, answer.text

    async def deregister(self, partner_id: str, body: dict[str, Any]) -> httpx.Response:
        return await self.api.post(
            f"{REGISTRATIONS.format(partner_id)}/deregister", json=body, headers=self.admin
        )

    async def deregister_confirmed(self, partner_id: str, domains: list[str]) -> httpx.Response:
        return await self.deregister(partner_id, {"domains": domains, "confirm": True})

    async def registrations(self, partner_id: str, **params: Any) -> httpx.Response:
        return await self.api.get(
            REGISTRATIONS.format(partner_id), params=params, headers=self.admin
        )

    async def capacity(self, partner_id: str) -> Any:
        """The partner's capacity as the API reports it (C2, C6)."""
        answer = await self.api.get(f"/v1/partners/{partner_id}/capacity", headers=self.admin)
        assert answer.status_code == 200, answer.text
        return answer.json()

    async def holder(self, domain: str) -> httpx.Response:
        return await self.api.get(f"/v1/domains/{domain}/registration", headers=self.admin)

    async def apply(self, *messages: Message) -> None:
        """Apply events as the worker does, without Kafka: for tests whose subject is not
        messaging."""
        await apply_messages(SUBSCRIPTION, self.runtime.sessions, messages)

    async def publish(self, messages: Sequence[Message]) -> None:
        await publish(self.settings.kafka, messages)

    @asynccontextmanager
    async def worker(self) -> AsyncIterator[None]:
        """The worker (consumers, outbox relay, expiry sweep) runs until the block ends."""
        async with running(build_worker(Runtime.create(self.settings, self.clock))):
            yield

    async def announced(self, count: int) -> list[tuple[str, str, dict[str, Any]]]:
        """(key, type, payload) of the first `count` records on the capacity topic, payload as
        parsed by the catalogue."""
        found = []
        for record in await read_topic(self.settings.kafka, topics.CAPACITY.name, count):
            event = EVENTS.parse(CloudEvent.from_json(record.value))
            found.append((record.key.decode(), event.envelope.type, event.payload.model_dump()))
        return found
