"""Queries of the portal's own facts; may flush, never commits. Every fact keeps the latest
by event time, so late and repeated events leave the same state."""

from collections.abc import Collection, Sequence
from datetime import date
from typing import Any, cast

from sqlalchemy import ARRAY, Row, String, Table, func, select, text
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from partner_portal.tables import (
    Client,
    ClientApps,
    ClientEngagement,
    ClientSubscription,
    ManagedCredit,
    Renewal,
    RenewalDecision,
    SoldDeal,
    TeamMember,
    core,
)

CLIENT, SUBSCRIPTION, APPS = core(Client), core(ClientSubscription), core(ClientApps)
ENGAGEMENT, RENEWAL, DECISION = core(ClientEngagement), core(Renewal), core(RenewalDecision)
TEAM, MANAGED, DEAL = core(TeamMember), core(ManagedCredit), core(SoldDeal)


def _columns(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    """The row's values the table has columns for: a payload field added within its version (an
    additive change) that the portal does not keep must not break the insert."""
    return {name: value for name, value in row.items() if name in table.c}


async def keep_latest(
    session: AsyncSession, table: Table, row: dict[str, Any], *, moment: str = "at"
) -> None:
    """Insert the row, or replace the stored one when this one is not older (event time)."""
    row = _columns(table, row)
    statement = insert(table).values(row)
    keys = [column.name for column in table.primary_key.columns]
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=keys,
            set_={name: statement.excluded[name] for name in row if name not in keys},
            where=table.c[moment] <= statement.excluded[moment],
        )
    )


async def record_deal(session: AsyncSession, row: dict[str, Any]) -> None:
    await session.execute(insert(DEAL).values(row).on_conflict_do_nothing())


async def unassign_team_member(session: AsyncSession, row: dict[str, Any]) -> None:
    """Ends the assignment unless a later assignment (event time) holds; an unassignment that
    arrives first is kept for the assignment it ends."""
    row = _columns(TEAM, row)
    statement = insert(TEAM).values(**row, name=row["email"], assigned_at=row["unassigned_at"])
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["partner_id", "role", "email"],
            set_={"unassigned_at": func.greatest(TEAM.c.unassigned_at, row["unassigned_at"])},
        )
    )


# D1 on a day: managed when the latest ledger entry for the client says so; sold when a gaining
# deal closed inside the sold window.
RELATED = """
    WITH managed AS (
        SELECT DISTINCT ON (m.client_id) m.client_id, m.managed
        FROM managed_credit m
        WHERE m.partner_id = :partner_id AND m.effective_on <= :day
          AND (CAST(:client_id AS text) IS NULL OR m.client_id = :client_id)
        ORDER BY m.client_id, m.effective_on DESC
    ), sold AS (
        SELECT DISTINCT d.client_id FROM sold_deal d
        WHERE d.partner_id = :partner_id AND d.gain
          AND d.closed_on > :sold_after AND d.closed_on <= :day
          AND (CAST(:client_id AS text) IS NULL OR d.client_id = :client_id)
    ), related AS (
        SELECT coalesce(m.client_id, s.client_id) AS client_id,
               coalesce(m.managed, false) AS managed, s.client_id IS NOT NULL AS sold
        FROM managed m FULL JOIN sold s ON s.client_id = m.client_id
        WHERE coalesce(m.managed, false) OR s.client_id IS NOT NULL
    )
"""
# Composed from the constant fragment above; every value is a bind parameter.
PARTNER_RELATIONS = text(RELATED + "SELECT r.client_id, r.managed, r.sold FROM related r")  # noqa: S608
PARTNER_CLIENTS = text(
    RELATED  # noqa: S608
    + """
    SELECT r.client_id, r.managed, r.sold,
           coalesce(c.name, r.client_id) AS name, coalesce(c.website_domain, '') AS domain,
           coalesce(sub.products, '{}') AS products, sub.mrr, sub.currency,
           coalesce(a.apps, '{}') AS apps, e.score
    FROM related r
    LEFT JOIN client c ON c.client_id = r.client_id
    LEFT JOIN client_subscription sub ON sub.client_id = r.client_id
    LEFT JOIN client_apps a ON a.client_id = r.client_id
    LEFT JOIN client_engagement e ON e.client_id = r.client_id
"""
)


async def partner_clients(
    session: AsyncSession,
    partner_id: str,
    day: date,
    sold_after: date,
    client_id: str | None = None,
    *,
    profiles: bool = True,
) -> Sequence[Row[Any]]:
    """The partner's clients on the day (or the one client, if it is one of them), with their
    profiles; without `profiles`, only whether each is managed and sold (D1)."""
    found = await session.execute(
        PARTNER_CLIENTS if profiles else PARTNER_RELATIONS,
        {"partner_id": partner_id, "day": day, "sold_after": sold_after, "client_id": client_id},
    )
    return found.all()


async def ever_related(session: AsyncSession, partner_id: str, client_id: str) -> bool:
    """Whether the partner ever managed or sold the client (its clients' details, D5)."""
    managed = select(col(ManagedCredit.client_id)).where(
        col(ManagedCredit.partner_id) == partner_id, col(ManagedCredit.client_id) == client_id
    )
    sold = select(col(SoldDeal.client_id)).where(
        col(SoldDeal.partner_id) == partner_id, col(SoldDeal.client_id) == client_id
    )
    found = await session.scalar(select(managed.union_all(sold).exists()))
    return bool(found)


async def renewals(
    session: AsyncSession, client_ids: Collection[str], *, people_and_terms: bool = True
) -> Sequence[Row[Any]]:
    """The clients' renewals with their decisions, if any; without `people_and_terms`, only the
    dates and the decision (what D2 judges; a tenth of the cost for a thousand clients)."""
    if not client_ids:
        return []
    columns = (
        list(RENEWAL.c)
        if people_and_terms
        else [
            RENEWAL.c.client_id,
            RENEWAL.c.renewal_date,
            RENEWAL.c.decision_deadline,
            RENEWAL.c.scheduled_at,
        ]
    )
    found = await session.execute(
        select(*columns, DECISION.c.outcome, DECISION.c.decided_at)
        .outerjoin(
            DECISION,
            (DECISION.c.client_id == RENEWAL.c.client_id)
            & (DECISION.c.renewal_date == RENEWAL.c.renewal_date),
        )
        .where(RENEWAL.c.client_id == func.any(sql_cast(list(client_ids), ARRAY(String))))
        .order_by(RENEWAL.c.client_id, RENEWAL.c.renewal_date)
    )
    return cast(Sequence[Row[Any]], found.all())


async def client_profile(session: AsyncSession, client_id: str) -> Row[Any] | None:
    found = await session.execute(
        select(
            CLIENT.c.name,
            CLIENT.c.website_domain,
            CLIENT.c.country,
            CLIENT.c.currency.label("account_currency"),
            SUBSCRIPTION.c.mrr,
            SUBSCRIPTION.c.currency,
            SUBSCRIPTION.c.products,
            SUBSCRIPTION.c.contact_tier,
            SUBSCRIPTION.c.email_tier,
            APPS.c.apps,
            ENGAGEMENT.c.score,
        )
        .select_from(CLIENT)
        .outerjoin(SUBSCRIPTION, SUBSCRIPTION.c.client_id == CLIENT.c.client_id)
        .outerjoin(APPS, APPS.c.client_id == CLIENT.c.client_id)
        .outerjoin(ENGAGEMENT, ENGAGEMENT.c.client_id == CLIENT.c.client_id)
        .where(CLIENT.c.client_id == client_id)
    )
    return cast(Row[Any] | None, found.first())


async def team(session: AsyncSession, partner_id: str) -> Sequence[TeamMember]:
    found = await session.scalars(
        select(TeamMember)
        .where(
            col(TeamMember.partner_id) == partner_id,
            col(TeamMember.unassigned_at).is_(None)
            | (col(TeamMember.unassigned_at) < col(TeamMember.assigned_at)),
        )
        .order_by(col(TeamMember.role), col(TeamMember.name))
    )
    return found.all()
