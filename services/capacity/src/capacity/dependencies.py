from typing import Annotated

from fastapi import Depends, Request

from capacity.domain.policy import CapacityPolicy
from keel.domains import NotADomain, registrable_domain
from keel.errors import FieldError, ValidationFailed


async def get_policy(request: Request) -> CapacityPolicy:
    policy: CapacityPolicy = request.app.state.policy
    return policy


async def valid_domain(domain: str) -> str:
    """The path's domain, normalised as a registration's is (C1)."""
    try:
        return registrable_domain(domain)
    except NotADomain as error:
        raise ValidationFailed(
            f"domain: {error}", errors=[FieldError("domain", str(error))]
        ) from None


PolicyDep = Annotated[CapacityPolicy, Depends(get_policy)]
DomainDep = Annotated[str, Depends(valid_domain)]
