from fastapi import APIRouter, status

from credit_ledger import service
from credit_ledger.dependencies import AccessDep, PolicyDep
from credit_ledger.recording import ACCESS_REMOVED, LINKED, SERVICES_ENDED, UNLINKED
from credit_ledger.schemas import AccessActionRead, EmployeesRead, RemoveAccess
from keel.http.app import API_PREFIX
from keel.http.dependencies import AsOfDep, PartnerReaderDep, PartnerWriterDep, SessionDep

router = APIRouter(prefix=API_PREFIX, tags=["client access"])

USER_CLIENT = "/partners/{partner_id}/users/{user_id}/clients/{client_id}"


@router.post(f"{USER_CLIENT}/link", status_code=status.HTTP_201_CREATED)
async def link_user(user_id: str, access: AccessDep, _: PartnerWriterDep) -> AccessActionRead:
    """Assign a user to a client by hand (M4): contractors and other domains earn credit only
    from activities after this."""
    return await access.take(LINKED, user_id)


@router.delete(f"{USER_CLIENT}/link")
async def unlink_user(user_id: str, access: AccessDep, _: PartnerWriterDep) -> AccessActionRead:
    """End a manual assignment (M4)."""
    return await access.take(UNLINKED, user_id)


@router.post(f"{USER_CLIENT}/remove-access")
async def remove_access(
    user_id: str, confirmation: RemoveAccess, access: AccessDep, _: PartnerWriterDep
) -> AccessActionRead:
    """Remove the user's access to the client, confirmed by `{"confirm": "REMOVE"}`: managed
    credit through this user stops today; only the client can restore the user (M5)."""
    return await access.take(ACCESS_REMOVED, user_id)


@router.post("/partners/{partner_id}/clients/{client_id}/end-services")
async def end_services(access: AccessDep, _: PartnerWriterDep) -> AccessActionRead:
    """The partner ends its services for the client: managed credit stops today (M5), until it
    links a user to the client again."""
    return await access.take(SERVICES_ENDED)


@router.get("/partners/{partner_id}/employees", response_model=EmployeesRead)
async def read_employees(
    partner_id: str, as_of: AsOfDep, session: SessionDep, policy: PolicyDep, _: PartnerReaderDep
) -> EmployeesRead:
    """The partner's users: partner-employee flag, status, the clients linked by hand, and for
    every client a user is known in: assigned automatically (M4) or by hand, member or not,
    access removed or not (M5), the last qualifying activity (M3)."""
    return await service.employees(session, partner_id, as_of, policy)
