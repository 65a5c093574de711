"""Use cases behind the HTTP API and the expiry sweep; the one place that commits."""

import json
from datetime import UTC, datetime
from uuid import uuid4

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from capacity import announcements, repository
from capacity.domain.capacity import Capacity
from capacity.domain.policy import CapacityPolicy, CapacityVersion
from capacity.errors import CapacityExceeded, DomainUnavailable
from capacity.schemas import (
    CapacityRead,
    DeregistrationRead,
    DomainRegistrationRead,
    RegistrationCreate,
    RegistrationPage,
    RegistrationQuery,
    RegistrationRead,
    RegistrationStatus,
)
from capacity.tables import ACTIVE, Registration
from keel.db import RawDatabase
from keel.domains import registrable_domain
from keel.errors import NotFound
from keel.events.catalogue import DOMAIN_DEREGISTERED, DOMAIN_EXPIRED
from keel.events.payloads.account import PartnerType
from keel.events.payloads.tier import Tier
from keel.outbox import enqueue, enqueue_raw, trace_headers


def _in_force(policy: CapacityPolicy, now: datetime) -> CapacityVersion:
    return policy.on(now.astimezone(UTC).date())


def _capacity(
    version: CapacityVersion, partner: repository.PartnerFacts | None, used: int
) -> Capacity:
    partner_type = PartnerType(partner.partner_type) if partner else PartnerType.SOLUTIONS
    tier = Tier(partner.tier) if partner and partner.tier else None
    return Capacity(tier, partner_type, version.limit(tier, partner_type), used)


def _due(registration: Registration, now: datetime) -> bool:
    """C4: an active registration past its expiry has expired, whether swept or not."""
    expires_at = registration.expires_at
    return registration.status == ACTIVE and expires_at is not None and expires_at <= now


def _read(registration: Registration, now: datetime) -> RegistrationRead:
    """The registration as it stands at `now`: past its expiry it reads as expired, ended at its
    expiry, whether the sweep has marked it or not (C4)."""
    read = RegistrationRead.model_validate(registration, from_attributes=True)
    if _due(registration, now):
        return read.model_copy(
            update={"status": RegistrationStatus.EXPIRED, "ended_at": registration.expires_at}
        )
    return read


class Registrar:
    """What registering needs besides the request: the hot path's database, and each partner's
    type as last seen, so the one statement is sent with the limits and expiry of that type
    (a partner of another type is decided by counting, and remembered)."""

    def __init__(self, database: RawDatabase, *, remembered: int = 100_000) -> None:
        self.database = database
        self.remembered = remembered
        self._partner_types: dict[str, PartnerType] = {}

    def partner_type(self, partner_id: str) -> PartnerType:
        return self._partner_types.get(partner_id, PartnerType.SOLUTIONS)

    def remember(self, partner_id: str, partner_type: PartnerType) -> None:
        if len(self._partner_types) >= self.remembered:
            self._partner_types.clear()
        self._partner_types[partner_id] = partner_type


async def register(
    registrar: Registrar,
    partner_id: str,
    lead: RegistrationCreate,
    *,
    now: datetime,
    policy: CapacityPolicy,
) -> RegistrationRead:
    """C1-C4: the registrable domain, if the vendor does not reserve it, no partner holds it and
    the partner is under its limit. The partner's row is locked first, so concurrent requests of
    one partner are decided one after another and can never overbook it.

    One statement locks, decides by the partner's bound and writes; at the bound, or for a
    partner of another type than expected, the active registrations are counted exactly under
    the lock (the bound is then reset to the count)."""
    version = _in_force(policy, now)
    domain = lead.domain
    if version.reserves(domain):
        raise DomainUnavailable(domain)
    headers = json.dumps(trace_headers())
    expected = registrar.partner_type(partner_id)

    async def decide(connection: asyncpg.Connection) -> Registration:
        registration = _registration(partner_id, lead, version, expected, now)
        decision = await repository.register(
            connection,
            registration,
            announcements.registered(registration),
            headers,
            limits={tier: version.limit(tier, expected) for tier in Tier},
            partner_type=expected,
        )
        partner_type = PartnerType(decision.partner.partner_type)
        registrar.remember(partner_id, partner_type)
        if decision.registered:
            return registration
        if not decision.admitted:
            used = await repository.count_and_bound(connection, partner_id, now, adding=1)
            capacity = _capacity(version, decision.partner, used)
            if not capacity.admits_one_more:
                raise CapacityExceeded(limit=capacity.limit, used=capacity.used)
            registration = _registration(partner_id, lead, version, partner_type, now)
            if await repository.insert_registration(
                connection, registration, announcements.registered(registration), headers
            ):
                return registration
        # The holder's registration may be past its expiry, not yet swept: it ends first (C4).
        expired = await repository.expire_domain(connection, domain, now)
        if not expired:
            raise DomainUnavailable(domain)
        await enqueue_raw(connection, [announcements.ended(DOMAIN_EXPIRED, r) for r in expired])
        if not await repository.insert_registration(
            connection, registration, announcements.registered(registration), headers
        ):
            raise DomainUnavailable(domain)
        return registration

    return _read(await registrar.database.transaction(decide), now)


def _registration(
    partner_id: str,
    lead: RegistrationCreate,
    version: CapacityVersion,
    partner_type: PartnerType,
    now: datetime,
) -> Registration:
    return Registration.model_validate(
        lead,
        from_attributes=True,
        update={
            "id": str(uuid4()),
            "partner_id": partner_id,
            "status": ACTIVE,
            "registered_at": now,
            "expires_at": version.expires_at(partner_type, now),
        },
    )


async def deregister(
    session: AsyncSession, partner_id: str, domains: list[str], *, now: datetime
) -> DeregistrationRead:
    """C5: the partner's active registrations of these domains end now, freeing capacity at
    once; each is announced so sold credit stops following it."""
    wanted = list(dict.fromkeys(registrable_domain(d) for d in domains))
    ended = await repository.deregister(session, partner_id, wanted, now)
    await enqueue(session, [announcements.ended(DOMAIN_DEREGISTERED, r) for r in ended])
    await session.commit()
    freed = {r.domain for r in ended}
    return DeregistrationRead(
        partner_id=partner_id,
        deregistered=[_read(r, now) for r in sorted(ended, key=lambda r: r.domain)],
        not_found=[d for d in wanted if d not in freed],
    )


async def capacity(
    session: AsyncSession, partner_id: str, *, now: datetime, policy: CapacityPolicy
) -> CapacityRead:
    """C2, C6: the limit in force for the partner's tier and type, and its usage now."""
    version = _in_force(policy, now)
    partner = await repository.partner(session, partner_id)
    figure = _capacity(version, partner, await repository.count_active(session, partner_id, now))
    return CapacityRead(
        partner_id=partner_id,
        tier=figure.tier,
        partner_type=figure.partner_type,
        limit=figure.limit,
        used=figure.used,
        available=figure.available,
        over_limit=figure.over_limit,
        policy_version=version.version,
    )


async def registrations(
    session: AsyncSession, partner_id: str, wanted: RegistrationQuery, *, now: datetime
) -> RegistrationPage:
    """C7: search, sort and page the partner's registrations."""
    rows, total = await repository.page(session, partner_id, wanted, now)
    return RegistrationPage(
        partner_id=partner_id,
        items=[_read(r, now) for r in rows],
        page=wanted.page,
        page_size=wanted.page_size,
        total=total,
    )


async def holder(session: AsyncSession, domain: str, *, now: datetime) -> DomainRegistrationRead:
    """Who holds the domain and since when; when no one does, its last registration."""
    found = await repository.latest_of_domain(session, domain, now)
    if found is None:
        raise NotFound(f"{domain} has never been registered")
    read = _read(found, now)
    return DomainRegistrationRead.model_validate({**read.model_dump(), "registration_id": read.id})


async def expire_due(session: AsyncSession, *, now: datetime, batch_size: int) -> int:
    """C4: mark a batch of registrations past their expiry as expired and announce each."""
    expired = await repository.expire_due(session, now, batch_size)
    await enqueue(session, [announcements.ended(DOMAIN_EXPIRED, r) for r in expired])
    await session.commit()
    return len(expired)
