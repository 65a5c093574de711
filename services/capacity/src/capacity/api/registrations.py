from typing import Annotated

from fastapi import APIRouter, Query, status

from capacity import service
from capacity.dependencies import DomainDep, PolicyDep, RegistrarDep
from capacity.schemas import (
    CapacityRead,
    Deregistration,
    DeregistrationRead,
    DomainRegistrationRead,
    RegistrationCreate,
    RegistrationPage,
    RegistrationQuery,
    RegistrationRead,
)
from keel.events.payloads.common import Identifier
from keel.http.app import API_PREFIX
from keel.http.dependencies import (
    AdminDep,
    ClockDep,
    PartnerReaderDep,
    PartnerWriterDep,
    SessionDep,
)

router = APIRouter(prefix=API_PREFIX, tags=["registrations"])

REGISTRATIONS = "/partners/{partner_id}/registrations"


@router.post(REGISTRATIONS, status_code=status.HTTP_201_CREATED)
async def register(
    partner_id: Identifier, lead: RegistrationCreate, door: RegistrarDep
) -> RegistrationRead:
    """Register a lead by its website (C1): its registrable domain is held by the partner.
    409 `capacity-exceeded` (with `limit` and `used`) at the limit (C2, C6); 409
    `domain-unavailable` when reserved or held by any partner, this one included (C3)."""
    return await service.register(
        door.registrar, partner_id, lead, now=door.clock.now(), policy=door.policy
    )


@router.get(REGISTRATIONS)
async def read_registrations(
    partner_id: str,
    wanted: Annotated[RegistrationQuery, Query()],
    session: SessionDep,
    clock: ClockDep,
    _: PartnerReaderDep,
) -> RegistrationPage:
    """Search (`q`: substring of domain, company, contact name or country, any case), sort and
    page the partner's registrations; active ones unless `status` says otherwise (C7)."""
    return await service.registrations(session, partner_id, wanted, now=clock.now())


@router.post(f"{REGISTRATIONS}/deregister")
async def deregister(
    partner_id: str,
    request: Deregistration,
    session: SessionDep,
    clock: ClockDep,
    _: PartnerWriterDep,
) -> DeregistrationRead:
    """Deregister one or many domains, confirmed by `"confirm": true` (C5): capacity is freed at
    once. Says what was freed and which domains the partner does not actively hold."""
    return await service.deregister(session, partner_id, request.domains, now=clock.now())


@router.get("/partners/{partner_id}/capacity")
async def read_capacity(
    partner_id: str,
    session: SessionDep,
    clock: ClockDep,
    policy: PolicyDep,
    _: PartnerReaderDep,
) -> CapacityRead:
    """Tier, partner type, limit, active registrations, what is left, and whether a tier drop
    left the partner over its limit (C2, C6)."""
    return await service.capacity(session, partner_id, now=clock.now(), policy=policy)


@router.get("/domains/{domain}/registration")
async def read_domain_registration(
    domain: DomainDep, session: SessionDep, clock: ClockDep, _: AdminDep
) -> DomainRegistrationRead:
    """Who holds the domain (normalised as in C1) and since when; when nobody does, its last
    registration and how it ended. 404 when it was never registered."""
    return await service.holder(session, domain, now=clock.now())
