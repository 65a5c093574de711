from fastapi import APIRouter, Request

from keel.http.app import API_PREFIX
from keel.http.dependencies import AdminDep
from partner_portal import service
from partner_portal.schemas import UpstreamsRead
from partner_portal.upstream import Upstreams

router = APIRouter(prefix=API_PREFIX, tags=["operations"])


@router.get("/upstreams", response_model=UpstreamsRead)
async def read_upstreams(request: Request, _: AdminDep) -> UpstreamsRead:
    """Whether each of the four services the portal reads answers its readiness probe now."""
    upstreams: Upstreams = request.app.state.upstreams
    return await service.upstreams_ready(upstreams)
