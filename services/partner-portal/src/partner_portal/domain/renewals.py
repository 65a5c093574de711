"""D2: renewal decisions. Pure: the renewal's facts and the day in."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta


@dataclass(frozen=True, slots=True)
class RenewalFacts:
    client_id: str
    renewal_date: date
    decision_deadline: date
    scheduled_at: datetime
    decided_at: datetime | None
    outcome: str | None


def _by_end_of(day: date, moment: datetime) -> bool:
    return moment < datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)


def upcoming(renewal: RenewalFacts, day: date) -> bool:
    """D2: upcoming from when it is announced until it is decided (both by event time)."""
    announced = _by_end_of(day, renewal.scheduled_at)
    decided = renewal.decided_at is not None and _by_end_of(day, renewal.decided_at)
    return announced and not decided


def decision_due(renewal: RenewalFacts, day: date, within_days: int) -> bool:
    """D2: an undecided renewal whose decision deadline is within N days of the day (or past)."""
    return upcoming(renewal, day) and renewal.decision_deadline <= day + timedelta(days=within_days)


def next_renewal(renewals: list[RenewalFacts], day: date) -> RenewalFacts | None:
    """The earliest upcoming renewal on the day."""
    pending = [r for r in renewals if upcoming(r, day)]
    return min(pending, key=lambda r: r.renewal_date, default=None)


def current_renewal(renewals: list[RenewalFacts], day: date) -> RenewalFacts | None:
    """The latest renewal decided by the day: the subscription term the client is in."""
    decided = [r for r in renewals if r.decided_at is not None and _by_end_of(day, r.decided_at)]
    return max(decided, key=lambda r: r.renewal_date, default=None)
