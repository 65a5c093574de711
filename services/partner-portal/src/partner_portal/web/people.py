"""Team, employees and the client actions: each action is taken at its owner (the credit-ledger)
with the partner's own token, after the page's CSRF and origin checks."""

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from keel.errors import FieldError, ValidationFailed
from partner_portal import service
from partner_portal.upstream import Upstream
from partner_portal.web.rendering import PageRoute, render
from partner_portal.web.session import FormId, check_post
from partner_portal.web.viewer import Viewer, ViewerDep

router = APIRouter(prefix="/partners/{partner_id}", route_class=PageRoute)

CONFIRM_WORD = "REMOVE"


@router.get("/team", include_in_schema=False)
async def team(request: Request, viewer: ViewerDep) -> Response:
    found = await service.team(viewer.portal, viewer.partner_id)
    return render(request, "team.html", {"viewer": viewer, "team": found, "undated": True})


@router.get("/employees", include_in_schema=False)
async def employees(request: Request, viewer: ViewerDep, user: str | None = None) -> Response:
    """Users with a Clients column; one user's details and its clients, with Assign clients
    (a manual link, M4) and Remove access (typing REMOVE, M5)."""
    found = await service.employees(viewer.portal, viewer.partner_id, viewer.as_of)
    chosen = next((e for e in found.employees if e.user_id == user), None)
    return render(
        request,
        "employees.html",
        {"viewer": viewer, "employees": found, "chosen": chosen, "word": CONFIRM_WORD},
    )


async def _at_ledger(
    viewer: Viewer, user_id: str, client_id: str, action: str, body: object = None
) -> Response:
    """One access action on a user's client at the credit-ledger, then back to the user."""
    await viewer.act(
        Upstream.LEDGER, viewer.owned("users", user_id, "clients", client_id, action), body
    )
    return RedirectResponse(f"{viewer.page('employees')}?{urlencode({'user': user_id})}", 303)


@router.post("/employees/{user_id}/assign", include_in_schema=False)
async def assign(
    request: Request,
    viewer: ViewerDep,
    user_id: str,
    client_id: FormId,
) -> Response:
    await check_post(request)
    return await _at_ledger(viewer, user_id, client_id.strip(), "link")


@router.post("/employees/{user_id}/remove-access", include_in_schema=False)
async def remove_access(
    request: Request,
    viewer: ViewerDep,
    user_id: str,
    client_id: FormId,
    confirmation: Annotated[str, Form(max_length=50)] = "",
) -> Response:
    """Refused here unless the word typed is exactly REMOVE, and again by the ledger."""
    await check_post(request)
    if confirmation != CONFIRM_WORD:
        raise ValidationFailed(
            "the confirmation must be the word REMOVE",
            errors=[FieldError("confirmation", f"type {CONFIRM_WORD}")],
        )
    return await _at_ledger(viewer, user_id, client_id, "remove-access", {"confirm": "REMOVE"})


@router.post("/clients/{client_id}/end-services", include_in_schema=False)
async def end_services(request: Request, viewer: ViewerDep, client_id: str) -> Response:
    await check_post(request)
    await viewer.act(Upstream.LEDGER, viewer.owned("clients", client_id, "end-services"))
    return RedirectResponse(f"{viewer.page('clients', client_id)}?ended=1", 303)
