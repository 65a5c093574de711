from datetime import date
from typing import Annotated

from fastapi import Depends, Query, Request

from credit_ledger.domain.policy import ManagedPolicy
from keel.clock import today
from keel.http.dependencies import ClockDep


async def get_policy(request: Request) -> ManagedPolicy:
    policy: ManagedPolicy = request.app.state.policy
    return policy


async def get_as_of(
    clock: ClockDep,
    as_of: Annotated[date | None, Query(description="A UTC day; today when absent (M8)")] = None,
) -> date:
    return as_of or today(clock)


PolicyDep = Annotated[ManagedPolicy, Depends(get_policy)]
AsOfDep = Annotated[date, Depends(get_as_of)]
