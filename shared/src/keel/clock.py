"""An injectable clock: domain code takes time as an argument, the edges read it from here."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class FixedClock:
    """A clock that only moves when told to; for tests and replays."""

    current: datetime = field(default_factory=lambda: datetime(2026, 1, 15, 12, tzinfo=UTC))

    def __post_init__(self) -> None:
        if self.current.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta


def today(clock: Clock) -> date:
    """The current day in UTC, the default `as_of` of every figure."""
    return clock.now().astimezone(UTC).date()


def day_end(day: date) -> datetime:
    """The first instant after the day, in UTC: a time is within or before the day when it is
    earlier than this."""
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC)
