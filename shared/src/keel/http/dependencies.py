"""FastAPI dependencies every service uses: the runtime, a session, the clock, the day a read is
as of, the caller.

All are `async def`: FastAPI would run plain functions in a thread pool, a hop per dependency
per request that costs more than the work they do.
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from keel.auth import Principal, Scope
from keel.clock import Clock, today
from keel.errors import Forbidden, Unauthorized
from keel.runtime import Runtime

_bearer = HTTPBearer(auto_error=False, description="JWT with scopes and a partner_id claim")


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    """A session per request; the service function it is handed to commits (or nothing does)."""
    async with runtime.sessions() as session:
        yield session


async def get_clock(runtime: RuntimeDep) -> Clock:
    return runtime.clock


SessionDep = Annotated[AsyncSession, Depends(get_session)]
ClockDep = Annotated[Clock, Depends(get_clock)]


async def get_as_of(
    clock: ClockDep,
    as_of: Annotated[date | None, Query(description="A UTC day; today when absent")] = None,
) -> date:
    """The day a read is as of: the `as_of` query parameter, else today by the runtime's clock."""
    return as_of or today(clock)


AsOfDep = Annotated[date, Depends(get_as_of)]


async def get_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    # The runtime from the request, not RuntimeDep: one dependency fewer on every request.
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("a bearer token is required")
    runtime: Runtime = request.app.state.runtime
    return runtime.tokens.verify(credentials.credentials)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require_scope(*accepted: Scope) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets through a principal holding any of `accepted` (or admin)."""

    async def check(principal: PrincipalDep) -> Principal:
        if principal.is_admin or principal.scopes & set(accepted):
            return principal
        raise Forbidden(f"this needs one of the scopes: {', '.join(accepted)}")

    return check


async def read_partner(partner_id: str, principal: PrincipalDep) -> Principal:
    """For routes under /partners/{partner_id}: a partner token reads only its own partner."""
    if not principal.can_read_partner(partner_id):
        raise Forbidden("this token cannot read that partner's resources")
    return principal


async def write_partner(partner_id: str, principal: PrincipalDep) -> Principal:
    if not principal.can_write_partner(partner_id):
        raise Forbidden("this token cannot change that partner's resources")
    return principal


AdminDep = Annotated[Principal, Depends(require_scope(Scope.ADMIN))]
PartnerReaderDep = Annotated[Principal, Depends(read_partner)]
PartnerWriterDep = Annotated[Principal, Depends(write_partner)]
