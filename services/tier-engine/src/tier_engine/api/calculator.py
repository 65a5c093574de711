from fastapi import APIRouter

from keel.clock import today
from keel.http.app import API_PREFIX
from keel.http.dependencies import ClockDep, PrincipalDep
from tier_engine.dependencies import PolicyDep
from tier_engine.domain import calculator
from tier_engine.schemas import (
    CurrencyConversion,
    CurrencyConverted,
    PointsCalculation,
    PointsEstimate,
)

router = APIRouter(prefix=API_PREFIX + "/calculator", tags=["calculator"])


@router.post("/points", response_model=PointsEstimate)
async def calculate_points(
    body: PointsCalculation, policy: PolicyDep, clock: ClockDep, _: PrincipalDep
) -> PointsEstimate:
    """T6: estimated sold, managed and total points of a deal, at the policies of `on`."""
    return calculator.estimate_points(policy, body, today(clock))


@router.post("/currency", response_model=CurrencyConverted)
async def convert_currency(
    body: CurrencyConversion, policy: PolicyDep, clock: ClockDep, _: PrincipalDep
) -> CurrencyConverted:
    """T6 currency mode: points to local currency, or local currency to points."""
    return calculator.convert_currency(policy, body, today(clock))
