from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from capacity.domain.policy import CapacityPolicy
from capacity.service import Registrar
from keel.auth import Principal
from keel.clock import Clock
from keel.domains import NotADomain, registrable_domain
from keel.errors import FieldError, ValidationFailed
from keel.http.dependencies import write_partner
from keel.runtime import Runtime


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


@dataclass(frozen=True, slots=True)
class RegistrationDoor:
    """What the register route needs, as one dependency (each costs more than its work)."""

    registrar: Registrar
    clock: Clock
    policy: CapacityPolicy


async def get_registration_door(
    request: Request, _: Annotated[Principal, Depends(write_partner)]
) -> RegistrationDoor:
    runtime: Runtime = request.app.state.runtime
    return RegistrationDoor(request.app.state.registrar, runtime.clock, request.app.state.policy)


RegistrarDep = Annotated[RegistrationDoor, Depends(get_registration_door)]
