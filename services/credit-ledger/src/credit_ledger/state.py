"""The ledger's canonical state for the state digest (issue 12 point 8): every partner's managed
credit per client in force on the day, as known now (M7, M8)."""

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlmodel import col

from credit_ledger.tables import LedgerEntry
from keel.digest import Row
from keel.http.dependencies import AsOfDep, SessionDep


async def credit_state(session: SessionDep, day: AsOfDep) -> list[Row]:
    """Per partner and client, the last entry effective up to the day (the latest recorded for
    that day: a correction wins); credit that is 0 is no credit, whether an entry says so or not."""
    query = (
        select(
            col(LedgerEntry.partner_id),
            col(LedgerEntry.client_id),
            col(LedgerEntry.amount),
            col(LedgerEntry.currency),
            col(LedgerEntry.denominator),
        )
        .where(col(LedgerEntry.effective_on) <= day)
        .order_by(
            col(LedgerEntry.partner_id),
            col(LedgerEntry.client_id),
            col(LedgerEntry.effective_on).desc(),
            col(LedgerEntry.id).desc(),
        )
        .ext(distinct_on(col(LedgerEntry.partner_id), col(LedgerEntry.client_id)))
    )
    return [tuple(row) for row in await session.execute(query) if row.amount != 0]
