"""Months and days of the tier calendar: the rollup of a month is evaluated on its 15th (T3);
sold points count for a number of months after the close date (S2)."""

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Self

from keel.months import add_months

ROLLUP_DAY = 15  # T3: tiers are computed mid-month
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
# A month whose rollup looks a year back (S2) and months ahead (T4) stays within the calendar.
FIRST_YEAR, LAST_YEAR = 2, 9998


@dataclass(frozen=True, order=True, slots=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Self:
        if not (match := _MONTH.match(text)):
            raise ValueError(f"{text!r} is not a month (YYYY-MM)")
        if not FIRST_YEAR <= int(match[1]) <= LAST_YEAR:
            raise ValueError(f"{text!r}: the year must be within {FIRST_YEAR}-{LAST_YEAR}")
        return cls(int(match[1]), int(match[2]))

    @classmethod
    def of(cls, day: date) -> Self:
        return cls(day.year, day.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def shift(self, months: int) -> "Month":
        return Month.of(add_months(self.first_day, months))

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def evaluated_on(self) -> date:
        """T3: the day whose figures the month's rollup credits."""
        return date(self.year, self.month, ROLLUP_DAY)


def latest_closed_month(today: date) -> Month:
    """The newest month whose evaluated day is over (figures are as of the end of a day)."""
    this = Month.of(today)
    return this if today > this.evaluated_on else this.shift(-1)


def sold_window_start(day: date, months: int) -> date:
    """S2: on `day`, a deal counts when it closed after this day and on or before `day`."""
    return add_months(day, -months)


def counts_until(closed_on: date, months: int) -> date:
    """S2: the last day a deal closed on `closed_on` counts."""
    return add_months(closed_on, months) - timedelta(days=1)
