from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from activity_ingest.config import IngestSettings
from activity_ingest.group_commit import GroupCommit
from keel.auth import Principal, Scope
from keel.clock import Clock
from keel.http.dependencies import require_scope
from keel.runtime import Runtime

ProducerDep = Annotated[Principal, Depends(require_scope(Scope.EVENTS_WRITE))]


@dataclass(frozen=True, slots=True)
class IngestDoor:
    """What the submit route needs, as one dependency: each FastAPI dependency costs more per
    request than this route's own work for a single event."""

    log: GroupCommit
    clock: Clock
    settings: IngestSettings


async def get_ingest_door(request: Request, _: ProducerDep) -> IngestDoor:
    runtime: Runtime = request.app.state.runtime
    return IngestDoor(request.app.state.group_commit, runtime.clock, runtime.settings.ingest)  # type: ignore[attr-defined]


IngestDoorDep = Annotated[IngestDoor, Depends(get_ingest_door)]
