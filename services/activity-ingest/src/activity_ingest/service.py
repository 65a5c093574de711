"""Use cases of the ingest: the one place that commits."""

import json
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from activity_ingest import metrics, repository
from activity_ingest.config import IngestSettings
from activity_ingest.domain.validation import Rejection, validate_events
from activity_ingest.group_commit import GroupCommit
from activity_ingest.schemas import EventResult, FieldErrorRead, IngestReport, Replay, ReplayRead
from keel.events.catalogue import UPSTREAM_EVENTS
from keel.events.registry import Event
from keel.outbox import trace_headers


async def ingest(
    log: GroupCommit, items: Sequence[Any], *, now: datetime, settings: IngestSettings
) -> IngestReport:
    """Validate each item; log the new ones and their outbox rows in one transaction; commit.

    `accepted` is said only of events committed to the ingest log and the outbox, so they reach
    Kafka even if the broker is down now or the process dies right after answering. The log row
    is its own dedup mark (unique source and id), written by the same statement as the event and
    its outbox row: no mark can exist without its event. Concurrent requests share that
    statement and its commit (group commit).
    """
    skew = timedelta(seconds=settings.max_future_skew_s)
    verdicts = validate_events(items, UPSTREAM_EVENTS, now=now, max_future_skew=skew)
    headers = json.dumps(trace_headers())
    firsts: dict[repository.Identity, tuple[Event[Any], repository.LogRow]] = {}
    for verdict in verdicts:
        if isinstance(verdict, Event):
            envelope = verdict.envelope
            identity = (envelope.source, envelope.id)
            if identity not in firsts:
                firsts[identity] = (
                    verdict,
                    repository.LogRow(
                        source=envelope.source,
                        event_id=envelope.id,
                        type=envelope.type,
                        topic=verdict.topic,
                        key=verdict.key,
                        event_time=verdict.time,
                        envelope=envelope.to_json().decode(),
                        headers=headers,
                    ),
                )
    inserted = await log.log_and_queue([row for _, row in firsts.values()])
    return _report(items, verdicts, firsts, inserted)


def _report(
    items: Sequence[Any],
    verdicts: Sequence[Event[Any] | Rejection],
    firsts: dict[repository.Identity, tuple[Event[Any], repository.LogRow]],
    inserted: set[repository.Identity],
) -> IngestReport:
    results: list[EventResult] = []
    outcomes: Counter[tuple[str, str]] = Counter()
    rejections: Counter[str] = Counter()
    for item, verdict in zip(items, verdicts, strict=True):
        if isinstance(verdict, Rejection):
            outcomes["invalid", "rejected"] += 1
            rejections[verdict.reason] += 1
            results.append(
                EventResult(
                    id=_text(item, "id"),
                    source=_text(item, "source"),
                    status="rejected",
                    errors=[FieldErrorRead(field=e.field, reason=e.reason) for e in verdict.errors],
                )
            )
            continue
        identity = (verdict.envelope.source, verdict.envelope.id)
        # Only the first copy within a request can be the one inserted; later ones are duplicates.
        fresh = identity in inserted and firsts[identity][0] is verdict
        status = "accepted" if fresh else "duplicate"
        outcomes[verdict.envelope.type, status] += 1
        results.append(EventResult(id=identity[1], source=identity[0], status=status))
    metrics.count(outcomes, rejections)
    counts = {
        status: sum(r.status == status for r in results)
        for status in ("accepted", "duplicate", "rejected")
    }
    return IngestReport(results=results, **counts)


async def replay(session: AsyncSession, request: Replay) -> ReplayRead:
    """Queue the logged events of a time range for publishing again, in ingest order.

    Consumers apply each event id once, so a replay rebuilds what is missing and double counts
    nothing.
    """
    queued = await repository.queue_replay(
        session,
        start=request.start,
        end=request.end,
        by=request.by,
        types=request.types,
        headers=trace_headers(),
    )
    await session.commit()
    metrics.REPLAYED.inc(queued)
    return ReplayRead(**request.model_dump(by_alias=True), queued=queued)


def _text(item: Any, name: str) -> str | None:
    value = item.get(name) if isinstance(item, dict) else None
    return value if isinstance(value, str) else None
