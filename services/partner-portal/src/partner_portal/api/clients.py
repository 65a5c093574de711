from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from keel.clock import today
from keel.http.app import API_PREFIX
from keel.http.dependencies import ClockDep
from keel.policy import require_evaluable
from partner_portal import service
from partner_portal.dependencies import EvaluableDayDep, PortalDep
from partner_portal.schemas import ClientDetailRead, ClientsPage, ClientsQuery

router = APIRouter(prefix=API_PREFIX + "/partners/{partner_id}", tags=["clients"])

CSV = "text/csv"


@router.get(
    "/clients",
    response_model=ClientsPage,
    responses={200: {"content": {CSV: {"schema": {"type": "string"}}}}},
)
async def read_clients(
    partner_id: str,
    wanted: Annotated[ClientsQuery, Query()],
    request: Request,
    clock: ClockDep,
    portal: PortalDep,
) -> ClientsPage | Response:
    """The clients table (D1): name, domain, products owned, relationship, apps in use,
    engagement band (D4), MRR and currency, the partner's managed credit and share (from the
    ledger), the next renewal date. Searched by name or domain, filtered by relationship,
    ordered, paginated. `Accept: text/csv` gives the same rows as CSV."""
    day = require_evaluable(wanted.as_of or today(clock), portal.policy.first_day, "as_of")
    page = await service.clients_page(portal, partner_id, wanted, day)
    if CSV in request.headers.get("accept", ""):
        return Response(page.to_csv(), media_type=CSV)
    return page


@router.get("/clients/{client_id}", response_model=ClientDetailRead)
async def read_client(
    partner_id: str, client_id: str, as_of: EvaluableDayDep, portal: PortalDep
) -> ClientDetailRead:
    """One client: company, subscriptions with contact and email tiers, renewals (current and
    next), portal usage, engagement, links (CRM, account) and why the partner is or is not
    credited (D3). 404 for a client that was never the partner's."""
    return await service.client_detail(portal, partner_id, client_id, as_of)
