"""Writes of the facts the tier rules read; may flush, never commits."""

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Table, bindparam, select, tuple_, update
from sqlalchemy.dialects.postgresql import distinct_on, insert
from sqlalchemy.ext.asyncio import AsyncSession

from keel.events.payloads.deal import LOSSES
from tier_engine.domain.policy import TierPolicy
from tier_engine.recording import rerated
from tier_engine.tables import ClientApps, CreditEntry, Deal, PartnerFact, Registration

DEAL: Table = Deal.__table__  # type: ignore[attr-defined]
CREDIT: Table = CreditEntry.__table__  # type: ignore[attr-defined]
REGISTRATION: Table = Registration.__table__  # type: ignore[attr-defined]
PARTNER_FACT: Table = PartnerFact.__table__  # type: ignore[attr-defined]
CLIENT_APPS: Table = ClientApps.__table__  # type: ignore[attr-defined]

Line = tuple[str, str]  # (client id, product line)


async def append(session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows; one already there (same key) is left as it is (a redelivered event)."""
    if rows:
        await session.execute(insert(table).on_conflict_do_nothing(), list(rows))


async def first_sales(session: AsyncSession, lines: Iterable[Line]) -> dict[Line, date]:
    """The earliest known sale (new, cross-sell or upsell) of each client's product line."""
    wanted = sorted(set(lines))
    if not wanted:
        return {}
    found = await session.execute(
        select(DEAL.c.client_id, DEAL.c.product_line, DEAL.c.closed_on.label("first"))
        .where(
            tuple_(DEAL.c.client_id, DEAL.c.product_line).in_(wanted),
            DEAL.c.kind.not_in([kind.value for kind in LOSSES]),
        )
        .order_by(DEAL.c.client_id, DEAL.c.product_line, DEAL.c.closed_on)
        .ext(distinct_on(DEAL.c.client_id, DEAL.c.product_line))
    )
    return {(row.client_id, row.product_line): row.first for row in found}


async def refresh_lines(session: AsyncSession, policy: TierPolicy, lines: Iterable[Line]) -> None:
    """P2: an upsell's rate depends on when its product line was first sold. Each deal is
    stored as first sale of its line; then the lines a batch touched get their earliest sale, and
    their deals that had another are rated again."""
    first = await first_sales(session, lines)
    if not first:
        return
    deals = await session.execute(
        select(DEAL).where(tuple_(DEAL.c.client_id, DEAL.c.product_line).in_(sorted(first)))
    )
    changed = [
        rerated(policy, dict(row._mapping), first[(row.client_id, row.product_line)])
        for row in deals
        if row.line_first_sold_on != first[(row.client_id, row.product_line)]
    ]
    if changed:
        await session.execute(
            update(DEAL)
            .where(DEAL.c.deal_id == bindparam("key"))
            .values(
                line_first_sold_on=bindparam("line_first_sold_on"),
                rate=bindparam("rate"),
                rate_rule=bindparam("rate_rule"),
            ),
            [
                {
                    "key": row["deal_id"],
                    "line_first_sold_on": row["line_first_sold_on"],
                    "rate": row["rate"],
                    "rate_rule": row["rate_rule"],
                }
                for row in changed
            ],
        )


async def end_registrations(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """A deregistration or expiry ends the registration at its time (S3 reads the interval)."""
    if rows:
        await session.execute(
            update(REGISTRATION)
            .where(REGISTRATION.c.registration_id == bindparam("key"))
            .values(ended_at=bindparam("ended_at"), ended_by=bindparam("ended_by")),
            [
                {
                    "key": row["registration_id"],
                    "ended_at": row["ended_at"],
                    "ended_by": row["ended_by"],
                }
                for row in rows
            ],
        )


def lines_of(rows: Iterable[dict[str, Any]]) -> set[Line]:
    return {(row["client_id"], row["product_line"]) for row in rows}


async def client_deals(session: AsyncSession, partner_id: str, client_id: str) -> Sequence[Any]:
    rows = await session.execute(
        select(DEAL)
        .where(DEAL.c.partner_id == partner_id, DEAL.c.client_id == client_id)
        .order_by(DEAL.c.closed_at, DEAL.c.deal_id)
    )
    return rows.all()


async def client_credit(session: AsyncSession, partner_id: str, client_id: str) -> Sequence[Any]:
    rows = await session.execute(
        select(CREDIT)
        .where(CREDIT.c.partner_id == partner_id, CREDIT.c.client_id == client_id)
        .order_by(CREDIT.c.effective_on, CREDIT.c.recorded_at, CREDIT.c.id)
    )
    return rows.all()
