from typing import Annotated

from fastapi import Depends, Request

from activity_ingest.config import IngestSettings
from keel.auth import Principal, Scope
from keel.http.dependencies import require_scope


async def get_ingest_settings(request: Request) -> IngestSettings:
    settings: IngestSettings = request.app.state.runtime.settings.ingest
    return settings


IngestSettingsDep = Annotated[IngestSettings, Depends(get_ingest_settings)]
ProducerDep = Annotated[Principal, Depends(require_scope(Scope.EVENTS_WRITE))]
