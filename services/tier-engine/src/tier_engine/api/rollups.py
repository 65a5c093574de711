from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from keel.events.payloads.tier import MonthText
from keel.http.app import API_PREFIX
from keel.http.dependencies import AdminDep, ClockDep, PrincipalDep, SessionDep
from tier_engine.dependencies import PolicyDep, parse_month
from tier_engine.schemas import RollupCreate, RollupRead, RollupRunRead
from tier_engine.service import rollups

router = APIRouter(prefix=API_PREFIX, tags=["rollups"])


@router.post(
    "/rollups",
    response_model=RollupRunRead,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": RollupRunRead, "description": "The inputs were unchanged"}},
)
async def run_rollup(
    body: RollupCreate,
    response: Response,
    session: SessionDep,
    policy: PolicyDep,
    clock: ClockDep,
    _: AdminDep,
) -> RollupRunRead:
    """Run or re-run the month's rollup (T3): 201 with a new revision when the inputs changed,
    200 with the existing revision when they did not (same digest)."""
    outcome = await rollups.run_rollup(session, policy, parse_month(body.month), clock.now())
    if not outcome.created:
        response.status_code = status.HTTP_200_OK
    return RollupRunRead.model_validate(outcome, from_attributes=True)


@router.get("/rollups/{month}", response_model=RollupRead)
async def read_rollup(
    month: Annotated[MonthText, Path()],
    session: SessionDep,
    _: PrincipalDep,
    revision: Annotated[int | None, Query(ge=1, description="The latest when absent")] = None,
) -> RollupRead:
    """A rollup revision: digest, per-tier counts, policy versions and the diff to the previous
    revision."""
    return await rollups.read_rollup(session, parse_month(month), revision)
