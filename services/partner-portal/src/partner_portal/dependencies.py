"""Annotated dependencies of the portal's routes: the caller (its verified principal and the
token it came with), the use-case bundle, the as-of day."""

from datetime import date
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from keel.errors import FieldError, Unauthorized, ValidationFailed
from keel.http import dependencies
from keel.http.dependencies import PartnerReaderDep, SessionDep
from partner_portal.config import PortalSettings
from partner_portal.domain.policy import PortalPolicy
from partner_portal.owners import Portal
from partner_portal.upstream import Caller, Upstreams

_bearer = HTTPBearer(auto_error=False)


async def get_caller(
    _: PartnerReaderDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    """The token the partner (or admin) came with, once verified: every owner sees the caller
    itself and applies its own access rules."""
    if credentials is None:  # refused by the principal dependency before; narrows the type
        raise Unauthorized("a bearer token is required")
    return Caller(credentials.credentials)


async def get_portal(
    request: Request, session: SessionDep, caller: Annotated[Caller, Depends(get_caller)]
) -> Portal:
    policy: PortalPolicy = request.app.state.policy
    upstreams: Upstreams = request.app.state.upstreams
    settings: PortalSettings = request.app.state.portal_settings
    return Portal(session, upstreams, policy, settings, caller)


def in_force(policy: PortalPolicy, day: date, field: str = "as_of") -> date:
    """A day the portal's policies cover; an earlier one is a 422 naming the field."""
    if day < policy.first_day:
        reason = f"must be on or after {policy.first_day}, the first day of the portal's policies"
        raise ValidationFailed(f"{field}: {reason}", errors=[FieldError(field, reason)])
    return day


async def get_as_of(request: Request, day: dependencies.AsOfDep) -> date:
    return in_force(request.app.state.policy, day)


PortalDep = Annotated[Portal, Depends(get_portal)]
AsOfDep = Annotated[date, Depends(get_as_of)]
