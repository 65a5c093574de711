from fastapi import APIRouter

from capacity.dependencies import PolicyDep
from capacity.schemas import CapacityVersionRead, PoliciesRead
from keel.http.app import API_PREFIX
from keel.http.dependencies import PrincipalDep

router = APIRouter(prefix=API_PREFIX, tags=["policies"])


@router.get("/policies", response_model=PoliciesRead)
async def read_policies(policy: PolicyDep, _: PrincipalDep) -> PoliciesRead:
    """The effective-dated capacity policy: limits per tier and partner type (C2), reserved
    domains (C3), expiry per partner type (C4)."""
    return PoliciesRead(
        capacity=[
            CapacityVersionRead(
                **version.model_dump(exclude={"reserved_domains"}),
                reserved_domains=sorted(version.reserved_domains),
            )
            for version in policy.version
        ]
    )
