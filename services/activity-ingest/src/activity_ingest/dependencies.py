from typing import Annotated

from fastapi import Depends, Request

from activity_ingest.config import IngestSettings
from activity_ingest.group_commit import GroupCommit
from keel.auth import Principal, Scope
from keel.http.dependencies import require_scope


async def get_ingest_settings(request: Request) -> IngestSettings:
    settings: IngestSettings = request.app.state.runtime.settings.ingest
    return settings


async def get_group_commit(request: Request) -> GroupCommit:
    log: GroupCommit = request.app.state.group_commit
    return log


IngestSettingsDep = Annotated[IngestSettings, Depends(get_ingest_settings)]
GroupCommitDep = Annotated[GroupCommit, Depends(get_group_commit)]
ProducerDep = Annotated[Principal, Depends(require_scope(Scope.EVENTS_WRITE))]
