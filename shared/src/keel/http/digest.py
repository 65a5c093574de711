"""`GET /v1/state/digest?as_of=YYYY-MM-DD` (admin), the same in every service (issue 12 point 8).

A service gives the rows of its canonical state as a dependency that takes the day
(`AsOfDep`); this route turns them into the digest (keel.digest).
"""

from collections.abc import Awaitable, Callable, Iterable
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from keel.digest import Row, state_digest
from keel.http.app import API_PREFIX
from keel.http.dependencies import AdminDep, AsOfDep, RuntimeDep


class StateDigestRead(BaseModel):
    service: str
    as_of: date
    digest: str = Field(description="sha256 over the canonical rows, `sha256:<hex>`")
    rows: int = Field(description="How many rows of state the digest covers")


def digest_router(state_rows: Callable[..., Awaitable[Iterable[Row]]]) -> APIRouter:
    router = APIRouter(prefix=API_PREFIX + "/state", tags=["state"])

    @router.get("/digest", response_model=StateDigestRead)
    async def read_state_digest(
        _: AdminDep,
        day: AsOfDep,
        rows: Annotated[Iterable[Row], Depends(state_rows)],
        runtime: RuntimeDep,
    ) -> StateDigestRead:
        """A sha256 over this service's derived state as of the day, as known now: equal in two
        environments that applied the same events, whatever their order or duplicates."""
        found = state_digest(rows)
        return StateDigestRead(
            service=runtime.settings.service.name, as_of=day, digest=found.digest, rows=found.rows
        )

    return router
