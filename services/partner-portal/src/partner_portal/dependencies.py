"""Annotated dependencies of the portal's routes: the caller (its verified principal and the
token it came with), the use-case bundle, the as-of day."""

from datetime import date
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from keel.errors import Unauthorized
from keel.http import dependencies
from keel.http.dependencies import PartnerReaderDep, SessionDep
from keel.policy import require_evaluable
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


async def get_evaluable_day(request: Request, day: dependencies.AsOfDep) -> date:
    """A day the portal's policies cover; an earlier one is a 422 naming the field."""
    policy: PortalPolicy = request.app.state.policy
    return require_evaluable(day, policy.first_day, "as_of")


PortalDep = Annotated[Portal, Depends(get_portal)]
EvaluableDayDep = Annotated[date, Depends(get_evaluable_day)]
