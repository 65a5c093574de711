"""The partner's pages: one template per page, data from the portal's use cases (service.py) and,
for figures the portal does not hold, from their owners over HTTP with the partner's own token."""

import asyncio
from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import ValidationError

from keel.errors import FieldError, ValidationFailed, field_path
from keel.runtime import Runtime
from partner_portal import service
from partner_portal.schemas import ClientsQuery
from partner_portal.web.rendering import PageRoute, render
from partner_portal.web.viewer import ViewerDep

router = APIRouter(prefix="/partners/{partner_id}", route_class=PageRoute)

CLIENT_TABS = ("details", "renewals", "usage", "engagement", "why")


async def clients_query(request: Request) -> ClientsQuery:
    """The table's state from the URL; an empty field of a GET form means "any"."""
    given = {k: v for k, v in request.query_params.items() if v and k in ClientsQuery.model_fields}
    try:
        return ClientsQuery.model_validate(given)
    except ValidationError as error:
        errors = [FieldError(field_path(e["loc"]), e["msg"]) for e in error.errors()]
        raise ValidationFailed("the clients table's query is not valid", errors=errors) from error


ClientsQueryDep = Annotated[ClientsQuery, Depends(clients_query)]


@router.get("/", include_in_schema=False)
async def dashboard(request: Request, viewer: ViewerDep, wanted: ClientsQueryDep) -> Response:
    """Alerts, summaries and the clients table (search, filter, sort and page in the URL)."""
    portal, partner_id, day = viewer.portal, viewer.partner_id, viewer.as_of
    runtime: Runtime = request.app.state.runtime
    # The two sections wait on different owners: each gets its own session, so they overlap.
    async with runtime.sessions() as other:
        board, clients = await asyncio.gather(
            service.dashboard(portal, partner_id, day),
            service.clients_page(replace(portal, session=other), partner_id, wanted, day),
        )
    pages = max(1, -(-clients.total // wanted.page_size))
    return render(
        request,
        "dashboard.html",
        {"viewer": viewer, "board": board, "clients": clients, "wanted": wanted, "pages": pages},
    )


@router.get("/clients.csv", include_in_schema=False)
async def clients_csv(viewer: ViewerDep, wanted: ClientsQueryDep) -> Response:
    """The rows the table shows, as CSV (the JSON API's own export)."""
    page = await service.clients_page(viewer.portal, viewer.partner_id, wanted, viewer.as_of)
    name = f"clients-{viewer.partner_id}-{viewer.as_of}.csv"
    return Response(
        page.to_csv(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/clients/{client_id}", include_in_schema=False)
async def client(
    request: Request,
    viewer: ViewerDep,
    client_id: str,
    tab: Annotated[str, Query(pattern="^(" + "|".join(CLIENT_TABS) + ")$")] = "details",
) -> Response:
    """The client panel: Details, Renewals, Portal usage, Engagement, Why am I credited? (D3)."""
    detail = await service.client_detail(viewer.portal, viewer.partner_id, client_id, viewer.as_of)
    return render(
        request,
        "client.html",
        {"viewer": viewer, "client": detail, "tab": tab, "tabs": CLIENT_TABS},
    )
