from typing import Annotated

from fastapi import APIRouter, Query

from keel.http.app import API_PREFIX
from keel.http.dependencies import AsOfDep, ClockDep, PartnerReaderDep, SessionDep
from tier_engine.dependencies import MonthDep, PolicyDep
from tier_engine.schemas import (
    BreakdownQuery,
    BreakdownRead,
    ClientHistoryRead,
    ExplainRead,
    PartnerTierRead,
    ProgressRead,
)
from tier_engine.service import breakdown, explain, figures

router = APIRouter(prefix=API_PREFIX + "/partners/{partner_id}", tags=["partner figures"])


@router.get("/tier", response_model=PartnerTierRead)
async def read_tier(
    partner_id: str, month: MonthDep, session: SessionDep, policy: PolicyDep, _: PartnerReaderDep
) -> PartnerTierRead:
    """The credited tier of the month's latest rollup revision, points per track, requirements
    and insights (T4): the minimum to keep the tier, what the next tier lacks, what expires."""
    return await figures.partner_tier(session, policy, partner_id, month)


@router.get("/points-breakdown", response_model=BreakdownRead)
async def read_breakdown(
    partner_id: str,
    wanted: Annotated[BreakdownQuery, Query()],
    session: SessionDep,
    policy: PolicyDep,
    clock: ClockDep,
    _: PartnerReaderDep,
) -> BreakdownRead:
    """Per client sold and managed points on the month's evaluated day with the rates used (T5),
    filtered by deal type and market type."""
    return await breakdown.breakdown(session, policy, partner_id, wanted, clock.now())


@router.get("/clients/{client_id}/points-history", response_model=ClientHistoryRead)
async def read_client_history(
    partner_id: str,
    client_id: str,
    session: SessionDep,
    policy: PolicyDep,
    _: PartnerReaderDep,
    as_of: AsOfDep,
) -> ClientHistoryRead:
    """Deals and managed credit for the client over time, active vs expired points (T5)."""
    return await breakdown.client_history(session, policy, partner_id, client_id, as_of)


@router.get("/progress", response_model=ProgressRead)
async def read_progress(
    partner_id: str,
    session: SessionDep,
    clock: ClockDep,
    _: PartnerReaderDep,
    months: Annotated[int, Query(ge=1, le=36)] = 6,
) -> ProgressRead:
    """Sold, managed and total points of the last N rolled-up months, then a 3-month projection
    from known expiries (T5)."""
    return await figures.progress(session, partner_id, months, clock.now())


@router.get("/tier/explain", response_model=ExplainRead)
async def explain_tier(
    partner_id: str, month: MonthDep, session: SessionDep, policy: PolicyDep, _: PartnerReaderDep
) -> ExplainRead:
    """The derivation from the credited tier down to per-client points, ledger entries and
    deals, with rule ids and policy versions."""
    return await explain.explain(session, policy, partner_id, month)
