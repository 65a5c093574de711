from typing import Annotated

from fastapi import APIRouter, Query

from keel.http.app import API_PREFIX
from partner_portal import service
from partner_portal.dependencies import EvaluableDayDep, PortalDep
from partner_portal.schemas import (
    DashboardRead,
    EmployeeRead,
    EmployeesRead,
    PointChangesQuery,
    PointChangesRead,
    RenewalsRead,
    TeamRead,
)

router = APIRouter(prefix=API_PREFIX + "/partners/{partner_id}", tags=["partner dashboard"])


@router.get("/dashboard", response_model=DashboardRead)
async def read_dashboard(
    partner_id: str, as_of: EvaluableDayDep, portal: PortalDep
) -> DashboardRead:
    """Alerts: renewal decisions due within 30 days (D2), managed credit ending within 30 days
    without new activity (the ledger's `expiring`, M6), capacity at or over 90% of the limit.
    Summaries: the credited tier and points per track, clients per relationship (D1). An owner
    that does not answer leaves its section null and marked unavailable; the answer is 200."""
    return await service.dashboard(portal, partner_id, as_of)


@router.get("/renewals", response_model=RenewalsRead)
async def read_renewals(
    partner_id: str,
    as_of: EvaluableDayDep,
    portal: PortalDep,
    within_days: Annotated[int, Query(ge=0, le=366)] = 90,
) -> RenewalsRead:
    """Undecided renewals of the partner's clients whose decision deadline is within N days
    (D2), with the renewal-communication owner, the vendor's renewal manager and both terms."""
    return await service.renewals(portal, partner_id, as_of, within_days)


@router.get("/team", response_model=TeamRead)
async def read_team(partner_id: str, portal: PortalDep) -> TeamRead:
    """The vendor team of the partner: partner development manager and others, with email."""
    return await service.team(portal, partner_id)


@router.get("/employees", response_model=EmployeesRead)
async def read_employees(
    partner_id: str, as_of: EvaluableDayDep, portal: PortalDep
) -> EmployeesRead:
    """Every partner user with status, employee flag and clients: assigned automatically (M4)
    or by hand, member or not, access removed or not, last qualifying activity. From the
    credit-ledger: 503 when it does not answer."""
    return await service.employees(portal, partner_id, as_of)


@router.get("/employees/{user_id}", response_model=EmployeeRead)
async def read_employee(
    partner_id: str, user_id: str, as_of: EvaluableDayDep, portal: PortalDep
) -> EmployeeRead:
    """One partner user and its clients (as `/employees`); 404 for a user of no such partner."""
    return await service.employee(portal, partner_id, user_id, as_of)


@router.get("/point-changes", response_model=PointChangesRead)
async def read_point_changes(
    partner_id: str, wanted: Annotated[PointChangesQuery, Query()], portal: PortalDep
) -> PointChangesRead:
    """Tier point changes (D6): per client, sold and managed points of the tier engine's
    evaluation of `from`'s month against `to`'s; increases are new points, decreases lost
    points, each with the clients behind it. 503 when the tier engine does not answer."""
    return await service.point_changes_between(portal, partner_id, wanted)
