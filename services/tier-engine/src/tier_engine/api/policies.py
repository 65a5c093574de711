from typing import Any

from fastapi import APIRouter

from keel.http.app import API_PREFIX
from keel.http.dependencies import PrincipalDep
from tier_engine.dependencies import PolicyDep

router = APIRouter(prefix=API_PREFIX, tags=["policies"])


@router.get("/policies")
async def read_policies(policy: PolicyDep, _: PrincipalDep) -> dict[str, Any]:
    """Every effective-dated policy version the S, P and T rules use: currency tables (P1),
    rates (P2), growth markets (P3), tier models with their requirements (T1, T2; `derived`
    marks thresholds we derived), the sold window (S2) and the registration flag (S3)."""
    return policy.model_dump(mode="json")
