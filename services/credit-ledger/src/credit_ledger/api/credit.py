from typing import Annotated

from fastapi import APIRouter, Query, Response

from credit_ledger import service
from credit_ledger.dependencies import PolicyDep
from credit_ledger.schemas import (
    AttributionRead,
    ExpiringRead,
    LedgerPage,
    LedgerQuery,
    ManagedCreditRead,
    ManagedPageQuery,
    PartnerAttributionRead,
)
from keel.http.app import API_PREFIX
from keel.http.dependencies import AdminDep, AsOfDep, PartnerReaderDep, SessionDep

JSON = "application/json"
router = APIRouter(prefix=API_PREFIX, tags=["managed credit"])


@router.get("/clients/{client_id}/attribution", response_model=AttributionRead)
async def read_attribution(
    client_id: str, as_of: AsOfDep, session: SessionDep, policy: PolicyDep, _: AdminDep
) -> Response:
    """Who manages the client on the day, for how much, and why; and who does not, and why
    (M1-M8): qualifying users, the activities that count with their expiry, the window."""
    read = await service.attribution(session, client_id, as_of, policy)
    return Response(read.model_dump_json(), media_type=JSON)


@router.get(
    "/partners/{partner_id}/clients/{client_id}/attribution", response_model=PartnerAttributionRead
)
async def read_partner_attribution(
    partner_id: str,
    client_id: str,
    as_of: AsOfDep,
    session: SessionDep,
    policy: PolicyDep,
    _: PartnerReaderDep,
) -> PartnerAttributionRead:
    """Why the partner is, or is not, credited for the client on the day (D3, M1-M7): its share
    and how many partners share the client, its own users step by step with their activities
    and windows. Other partners are never named (D5). 404 when none of its users is known there."""
    return await service.partner_attribution(session, partner_id, client_id, as_of, policy)


@router.get("/partners/{partner_id}/managed-credit", response_model=ManagedCreditRead)
async def read_managed_credit(
    partner_id: str,
    as_of: AsOfDep,
    page: Annotated[ManagedPageQuery, Query()],
    session: SessionDep,
    _: PartnerReaderDep,
) -> Response:
    """Every client the partner manages on the day (a keyset page, by client id), with credit,
    share and expiry; totals per currency over all of them. Served from the read table, the
    JSON built by PostgreSQL."""
    body = await service.managed_credit(session, partner_id, as_of, page)
    return Response(body, media_type=JSON)


@router.get("/partners/{partner_id}/ledger", response_model=LedgerPage)
async def read_ledger(
    partner_id: str,
    wanted: Annotated[LedgerQuery, Query()],
    session: SessionDep,
    _: PartnerReaderDep,
) -> LedgerPage:
    """The append-only ledger entries (effective day in [from, to]), oldest first, paginated;
    with `known_at`, only what had been recorded by then."""
    return await service.ledger_page(session, partner_id, wanted)


@router.get("/partners/{partner_id}/expiring", response_model=ExpiringRead)
async def read_expiring(
    partner_id: str,
    as_of: AsOfDep,
    session: SessionDep,
    _: PartnerReaderDep,
    within_days: Annotated[int, Query(ge=0, le=366)] = 30,
) -> ExpiringRead:
    """Clients whose managed credit ends within N days unless a new qualifying activity
    happens, with the credit at risk (M6)."""
    return await service.expiring(session, partner_id, as_of, within_days)
