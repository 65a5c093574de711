from fastapi import APIRouter, status

from activity_ingest import service
from activity_ingest.schemas import Replay, ReplayRead
from keel.http.app import API_PREFIX
from keel.http.dependencies import AdminDep, SessionDep

router = APIRouter(prefix=API_PREFIX, tags=["replays"])


@router.post(
    "/replays",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ReplayRead,
    response_model_by_alias=True,
)
async def replay_events(request: Replay, session: SessionDep, _: AdminDep) -> ReplayRead:
    """Publish again the accepted events of a time range (by ingest time or event time).

    For rebuilding downstream state: consumers apply each event id once, so nothing is counted
    twice. Events go out in ingest order through the outbox.
    """
    return await service.replay(session, request)
