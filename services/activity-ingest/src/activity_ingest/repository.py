from collections.abc import Sequence
from typing import Any

from keel.events.registry import Event
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from activity_ingest.tables import IngestedEvent


async def insert_new(session: AsyncSession, events: Sequence[Event[Any]]) -> set[tuple[str, str]]:
    """Log the events not seen before; returns the (source, id) of those it inserted."""
    if not events:
        return set()
    inserted = await session.execute(
        insert(IngestedEvent)
        .values(
            [
                {
                    "source": event.envelope.source,
                    "event_id": event.envelope.id,
                    "type": event.envelope.type,
                    "topic": event.topic,
                    "key": event.key,
                    "event_time": event.time,
                    "envelope": event.envelope.model_dump(mode="json", exclude_none=True),
                }
                for event in events
            ]
        )
        .on_conflict_do_nothing(index_elements=["source", "event_id"])
        .returning(col(IngestedEvent.source), col(IngestedEvent.event_id))
    )
    return {(row.source, row.event_id) for row in inserted}
