"""The tier engine's canonical state for the state digest (issue 12 point 8): the documents of
the latest revision of every month rolled up by the day (T3)."""

from datetime import date

from keel.digest import Row
from keel.http.dependencies import SessionDep
from keel.http.digest import StateDayDep
from tier_engine import repository
from tier_engine.domain.calendar import Month


def _last_month_evaluated_by(day: date) -> Month:
    this = Month.of(day)
    return this if day >= this.evaluated_on else this.shift(-1)


async def rollup_state(session: SessionDep, day: StateDayDep) -> list[Row]:
    """Per month evaluated on or before the day and per partner, its latest revision's document.
    The revision number is left out: re-running a rollup on the same inputs changes nothing."""
    return list(await repository.documents_up_to(session, _last_month_evaluated_by(day)))
