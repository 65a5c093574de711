"""Use cases of the ingest: the one place that commits."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from keel.events.catalogue import EVENTS
from keel.events.registry import Event
from keel.outbox import enqueue
from sqlalchemy.ext.asyncio import AsyncSession

from activity_ingest import repository
from activity_ingest.config import IngestSettings
from activity_ingest.domain.validation import validate_event
from activity_ingest.schemas import EventResult, FieldErrorRead, IngestReport


async def ingest(
    session: AsyncSession, items: Sequence[Any], *, now: datetime, settings: IngestSettings
) -> IngestReport:
    """Validate each item, log the new ones with their outbox rows in one transaction, commit.

    `accepted` is only said of events that are committed to the ingest log and the outbox, so
    they reach Kafka even if the broker is down now or the process dies after answering.
    """
    skew = timedelta(seconds=settings.max_future_skew_s)
    verdicts = [validate_event(item, EVENTS, now=now, max_future_skew=skew) for item in items]
    candidates: dict[tuple[str, str], Event[Any]] = {}
    for verdict in verdicts:
        if isinstance(verdict, Event):
            candidates.setdefault((verdict.envelope.source, verdict.envelope.id), verdict)
    new_keys = await repository.insert_new(session, list(candidates.values()))
    enqueue(session, [event for identity, event in candidates.items() if identity in new_keys])
    await session.commit()

    results: list[EventResult] = []
    for item, verdict in zip(items, verdicts, strict=True):
        if isinstance(verdict, Event):
            identity = (verdict.envelope.source, verdict.envelope.id)
            # The first copy in this request is the one inserted; any other copy is a duplicate.
            fresh = identity in new_keys and candidates[identity] is verdict
            status = "accepted" if fresh else "duplicate"
            results.append(EventResult(id=identity[1], source=identity[0], status=status))
        else:
            results.append(
                EventResult(
                    id=_text(item, "id"),
                    source=_text(item, "source"),
                    status="rejected",
                    errors=[FieldErrorRead(field=e.field, reason=e.reason) for e in verdict],
                )
            )
    return IngestReport(
        results=results,
        accepted=sum(r.status == "accepted" for r in results),
        duplicate=sum(r.status == "duplicate" for r in results),
        rejected=sum(r.status == "rejected" for r in results),
    )


def _text(item: Any, name: str) -> str | None:
    value = item.get(name) if isinstance(item, dict) else None
    return value if isinstance(value, str) else None
