"""Use cases behind the HTTP API and the expiry sweep; the one place that commits."""

from datetime import UTC, datetime
from uuid import uuid4

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
from keel.domains import registrable_domain
from keel.errors import NotFound
from keel.events.catalogue import DOMAIN_DEREGISTERED, DOMAIN_EXPIRED
from keel.events.payloads.account import PartnerType
from keel.events.payloads.tier import Tier
from keel.outbox import enqueue


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


def _status(registration: Registration, now: datetime) -> RegistrationStatus:
    if _due(registration, now):
        return RegistrationStatus.EXPIRED
    return RegistrationStatus(registration.status)


def _ended_at(registration: Registration, now: datetime) -> datetime | None:
    return registration.expires_at if _due(registration, now) else registration.ended_at


def _read(registration: Registration, now: datetime) -> RegistrationRead:
    return RegistrationRead(
        id=registration.id,
        partner_id=registration.partner_id,
        domain=registration.domain,
        website=registration.website,
        company=registration.company,
        contact_name=registration.contact_name,
        country=registration.country,
        status=_status(registration, now),
        registered_at=registration.registered_at,
        expires_at=registration.expires_at,
        ended_at=_ended_at(registration, now),
    )


async def register(
    session: AsyncSession,
    partner_id: str,
    lead: RegistrationCreate,
    *,
    now: datetime,
    policy: CapacityPolicy,
) -> RegistrationRead:
    """C1-C4: the registrable domain, if the vendor does not reserve it, no partner holds it and
    the partner is under its limit. The partner's row is locked first, so concurrent requests of
    one partner count one after another and can never overbook it."""
    version = _in_force(policy, now)
    domain = lead.domain
    if version.reserves(domain):
        raise DomainUnavailable(domain)
    partner = await repository.lock_partner(session, partner_id)
    capacity = _capacity(version, partner, await repository.count_active(session, partner_id, now))
    if not capacity.admits_one_more:
        raise CapacityExceeded(limit=capacity.limit, used=capacity.used)
    registration = Registration(
        id=str(uuid4()),
        partner_id=partner_id,
        domain=domain,
        website=lead.website,
        company=lead.company,
        contact_name=lead.contact_name,
        country=lead.country,
        status=ACTIVE,
        registered_at=now,
        expires_at=version.expires_at(capacity.partner_type, now),
    )
    row = registration.model_dump()
    if not await repository.insert_registration(session, row):
        # The holder's registration may be past its expiry, not yet swept: it ends first (C4).
        expired = await repository.expire_domain(session, domain, now)
        if not expired or not await repository.insert_registration(session, row):
            raise DomainUnavailable(domain)
        await enqueue(session, [announcements.ended(DOMAIN_EXPIRED, r) for r in expired])
    await enqueue(session, [announcements.registered(registration)])
    await session.commit()
    return _read(registration, now)


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
    return DomainRegistrationRead(
        domain=found.domain,
        partner_id=found.partner_id,
        registration_id=found.id,
        status=_status(found, now),
        registered_at=found.registered_at,
        expires_at=found.expires_at,
        ended_at=_ended_at(found, now),
    )


async def expire_due(session: AsyncSession, *, now: datetime, batch_size: int) -> int:
    """C4: mark a batch of registrations past their expiry as expired and announce each."""
    expired = await repository.expire_due(session, now, batch_size)
    await enqueue(session, [announcements.ended(DOMAIN_EXPIRED, r) for r in expired])
    await session.commit()
    return len(expired)
