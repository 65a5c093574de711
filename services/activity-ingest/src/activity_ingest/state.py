"""Ingest's canonical state for the state digest (issue 12 point 8): the identities of the
accepted events that happened by the end of the day, as logged now."""

from sqlmodel import col, select

from activity_ingest.tables import IngestedEvent
from keel.clock import day_end
from keel.digest import Row
from keel.http.dependencies import AsOfDep, SessionDep


async def log_state(session: SessionDep, day: AsOfDep) -> list[Row]:
    """(source, id, type, event time) of each accepted event: a duplicate is logged once."""
    end = day_end(day)
    query = select(
        col(IngestedEvent.source),
        col(IngestedEvent.event_id),
        col(IngestedEvent.type),
        col(IngestedEvent.event_time),
    ).where(col(IngestedEvent.event_time) < end)
    return [tuple(row) for row in await session.execute(query)]
