"""The tier engine's canonical state for the state digest (issue 12 point 8): the documents of
the latest revision of every month closed by the day (T3)."""

from keel.digest import Row
from keel.http.dependencies import AsOfDep, SessionDep
from tier_engine import repository
from tier_engine.domain.calendar import latest_closed_month


async def rollup_state(session: SessionDep, day: AsOfDep) -> list[Row]:
    """Per month whose evaluated day is over by the day, and per partner, the document of the
    month's latest revision. The revision number is left out: re-running a rollup on the same
    inputs changes nothing."""
    return list(await repository.documents_up_to(session, latest_closed_month(day)))
