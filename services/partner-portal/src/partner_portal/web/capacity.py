"""The capacity manager: the partner's registrations searched and sorted (C7), a lead
registered, rows deregistered in bulk after a confirmation listing the domains (C5)."""

import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse

from partner_portal.upstream import Upstream
from partner_portal.web.rendering import PageRoute, render
from partner_portal.web.session import check_post
from partner_portal.web.viewer import ViewerDep

router = APIRouter(prefix="/partners/{partner_id}/capacity", route_class=PageRoute)


@router.get("", include_in_schema=False)
async def capacity(
    request: Request,
    viewer: ViewerDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    sort: Annotated[Literal["domain", "company", "contact_name", "country"], Query()] = "domain",
    order: Annotated[Literal["asc", "desc"], Query()] = "asc",
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    params: dict[str, str | int | None] = {
        "sort": sort,
        "order": order,
        "page": page,
        "page_size": 25,
        "q": q or None,
    }
    usage, found = await asyncio.gather(
        viewer.ask(Upstream.CAPACITY, viewer.owned("capacity")),
        viewer.ask(Upstream.CAPACITY, viewer.owned("registrations"), **params),
    )
    pages = max(1, -(-found["total"] // found["page_size"]))
    return render(
        request,
        "capacity.html",
        {
            "viewer": viewer,
            "usage": usage,
            "found": found,
            "pages": pages,
            "q": q or "",
            "sort": sort,
            "order": order,
            "undated": True,
        },
    )


@router.post("/register", include_in_schema=False)
async def register(
    request: Request,
    viewer: ViewerDep,
    website: Annotated[str, Form(max_length=500)],
    company: Annotated[str, Form(max_length=200)],
    contact_name: Annotated[str, Form(max_length=200)],
    country: Annotated[str, Form(max_length=2)],
) -> Response:
    await check_post(request)
    body = {"website": website, "company": company, "contact_name": contact_name}
    body["country"] = country
    await viewer.act(Upstream.CAPACITY, viewer.owned("registrations"), body)
    return RedirectResponse(viewer.page("capacity"), 303)


@router.post("/deregister", include_in_schema=False)
async def deregister(
    request: Request,
    viewer: ViewerDep,
    domains: Annotated[list[str], Form(min_length=1, max_length=500)],
) -> Response:
    await check_post(request)
    body = {"domains": domains, "confirm": True}
    await viewer.act(Upstream.CAPACITY, viewer.owned("registrations", "deregister"), body)
    return RedirectResponse(viewer.page("capacity"), 303)
