"""Queries and writes of the ledger's facts, state, entries and read table; never commits.

The consumer's hot path runs set-based SQL on the session's own asyncpg connection (the same
transaction): `unnest` arrays in, plain rows out, no ORM objects.
"""

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from asyncpg import Connection
from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from credit_ledger.domain.coverage import ClientState
from credit_ledger.schemas import LedgerQuery
from credit_ledger.tables import Fact, LedgerEntry
from keel.events.catalogue import CLIENT_CREATED, PARTNER_USER_ADDED

FACT: Table = Fact.__table__  # type: ignore[attr-defined]
LEDGER_COLUMNS = LedgerEntry.__table__.c  # type: ignore[attr-defined]
FACT_FIELDS = ("source", "event_id", "kind", "at", "client_id", "partner_id", "user_id", "data")
ENTRY_FIELDS = (
    "partner_id",
    "client_id",
    "effective_on",
    "amount",
    "currency",
    "denominator",
    "country",
    "rule",
    "cause",
    "recorded_at",
)
ENTRY_TYPES = (
    "text",
    "text",
    "date",
    "numeric",
    "text",
    "int",
    "text",
    "text",
    "jsonb",
    "timestamptz",
)


class StepRow(NamedTuple):
    """A row of the read table `credit_step`."""

    partner_id: str
    client_id: str
    effective_on: date
    amount: Decimal
    currency: str
    denominator: int
    country: str | None
    ends_on: date | None = None


async def driver(session: AsyncSession) -> Connection:
    """The asyncpg connection under the session, inside the session's transaction."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver_connection: Connection = raw.driver_connection
    return driver_connection


async def record_facts(connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Append facts; one already recorded (same source and id) is left as it is."""
    if not rows:
        return
    columns = [[row[field] for row in rows] for field in FACT_FIELDS]  # data: JSON text
    await connection.execute(
        "INSERT INTO fact (source, event_id, kind, at, client_id, partner_id, user_id, data)"
        " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[],"
        " $5::text[], $6::text[], $7::text[], $8::jsonb[]) ON CONFLICT DO NOTHING",
        *columns,
    )


async def lock_clients(connection: Connection, client_ids: Collection[str]) -> None:
    """One writer per client at a time (a batch and an API action may meet), in a fixed order."""
    await connection.execute(
        "SELECT pg_advisory_xact_lock(hashtext(c)) FROM unnest($1::text[]) AS c ORDER BY c",
        sorted(client_ids),
    )


async def load_states(
    connection: Connection, client_ids: Collection[str]
) -> dict[str, ClientState]:
    """The interval state of each client that has one."""
    found = await connection.fetch(
        "SELECT client_id, state FROM interval_state WHERE client_id = ANY($1::text[])",
        list(client_ids),
    )
    return {client_id: _state(state) for client_id, state in found}  # jsonb arrives decoded


async def save_states(connection: Connection, states: Mapping[str, ClientState]) -> None:
    if not states:
        return
    await connection.execute(
        "INSERT INTO interval_state (client_id, state)"
        " SELECT * FROM unnest($1::text[], $2::jsonb[])"
        " ON CONFLICT (client_id) DO UPDATE SET state = excluded.state",
        list(states),
        [json.dumps(_document(state)) for state in states.values()],
    )


def _document(state: ClientState) -> dict[str, Any]:
    keys = sorted(state.periods.keys() | state.coverage.keys())
    return {
        "users": sorted(state.users),
        "keys": [
            [
                partner_id,
                user_id,
                [
                    [start.isoformat(), end.isoformat() if end else None]
                    for start, end in state.periods.get((partner_id, user_id), [])
                ],
                [
                    [start.isoformat(), end.isoformat()]
                    for start, end in state.coverage.get((partner_id, user_id), [])
                ],
            ]
            for partner_id, user_id in keys
        ],
    }


def _state(document: Mapping[str, Any]) -> ClientState:
    state = ClientState(users=set(document["users"]))
    for partner_id, user_id, periods, coverage in document["keys"]:
        if periods:
            state.periods[(partner_id, user_id)] = [
                (datetime.fromisoformat(a), datetime.fromisoformat(b) if b else None)
                for a, b in periods
            ]
        if coverage:
            state.coverage[(partner_id, user_id)] = [
                (date.fromisoformat(a), date.fromisoformat(b)) for a, b in coverage
            ]
    return state


async def credit_steps(
    connection: Connection, client_ids: Collection[str]
) -> dict[str, list[StepRow]]:
    """Per client, the read table's steps (every partner, oldest first)."""
    steps: dict[str, list[StepRow]] = {client_id: [] for client_id in client_ids}
    for row in await connection.fetch(
        "SELECT partner_id, client_id, effective_on, amount, currency, denominator, country,"
        " ends_on FROM credit_step WHERE client_id = ANY($1::text[])"
        " ORDER BY client_id, partner_id, effective_on",
        list(client_ids),
    ):
        steps[row[1]].append(StepRow(*row))
    return steps


async def append_entries(connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Append ledger entries; each row gets its `id`. Unique per (partner, client, day)."""
    if not rows:
        return
    columns = [[row[field] for row in rows] for field in ENTRY_FIELDS]
    columns[ENTRY_FIELDS.index("cause")] = [json.dumps(row["cause"]) for row in rows]
    arrays = ", ".join(f"${n}::{kind}[]" for n, kind in enumerate(ENTRY_TYPES, start=1))
    inserted = await connection.fetch(
        f"INSERT INTO ledger_entry ({', '.join(ENTRY_FIELDS)}) SELECT * FROM unnest({arrays})"
        " RETURNING id, partner_id, client_id, effective_on",
        *columns,
    )
    ids = {(partner, client, day): entry_id for entry_id, partner, client, day in inserted}
    for row in rows:
        row["id"] = ids[(row["partner_id"], row["client_id"], row["effective_on"])]


async def rewrite_steps(
    connection: Connection, client_ids: Collection[str], steps: Iterable[StepRow]
) -> None:
    """Replace the read table's rows of the clients."""
    rows = list(steps)
    await connection.execute(
        "DELETE FROM credit_step WHERE client_id = ANY($1::text[])", list(client_ids)
    )
    if rows:
        await connection.execute(
            "INSERT INTO credit_step (partner_id, client_id, effective_on, amount, currency,"
            " denominator, country, ends_on) SELECT * FROM unnest($1::text[], $2::text[],"
            " $3::date[], $4::numeric[], $5::text[], $6::int[], $7::text[], $8::date[])",
            *([row[n] for row in rows] for n in range(len(StepRow._fields))),
        )


async def clients_of_users(session: AsyncSession, user_ids: Iterable[str]) -> set[str]:
    users = set(user_ids)
    if not users:
        return set()
    found = await session.scalars(
        select(col(Fact.client_id))
        .where(col(Fact.user_id).in_(users), col(Fact.client_id).is_not(None))
        .distinct()
    )
    return {client_id for client_id in found if client_id}


async def clients_of_partners(session: AsyncSession, partner_ids: Iterable[str]) -> set[str]:
    partners = set(partner_ids)
    if not partners:
        return set()
    added, touched = FACT.alias("added"), FACT.alias("touched")
    found = await session.scalars(
        select(touched.c.client_id)
        .join(added, added.c.user_id == touched.c.user_id)
        .where(
            added.c.kind == PARTNER_USER_ADDED,
            added.c.partner_id.in_(partners),
            touched.c.client_id.is_not(None),
        )
        .distinct()
    )
    return {client_id for client_id in found if client_id}


# Per client, the step in force on day $2 for partner $1 as now known (M8), when not 0.
_MANAGED = """
    SELECT * FROM (
        SELECT DISTINCT ON (client_id)
            client_id, amount, currency, denominator, country, ends_on
        FROM credit_step WHERE partner_id = $1 AND effective_on <= $2
        ORDER BY client_id, effective_on DESC
    ) AS standing WHERE amount <> 0
"""


async def managed_on(connection: Connection, partner_id: str, day: date) -> list[StepRow]:
    """Every client the partner manages on `day`, with the day its credit ends (M6)."""
    return [
        StepRow(partner_id, client_id, day, amount, currency, denominator, country, ends_on)
        for client_id, amount, currency, denominator, country, ends_on in await connection.fetch(
            _MANAGED + " ORDER BY client_id", partner_id, day
        )
    ]


async def managed_document(
    connection: Connection, partner_id: str, day: date, *, after: str | None, limit: int
) -> str:
    """The managed-credit read as JSON, built by PostgreSQL: a keyset page of clients (after
    the client id `after`), the totals per currency over every client, and `next_after`.
    Amounts are numeric text, as `Amount` serializes them."""
    found: str = await connection.fetchval(
        f"""
        WITH live AS ({_MANAGED}),
        page AS (
            SELECT * FROM live WHERE client_id > coalesce($3, '') ORDER BY client_id LIMIT $4
        )
        SELECT json_build_object(
            'partner_id', $1::text,
            'as_of', $2::date,
            'clients', coalesce((
                SELECT json_agg(json_build_object(
                    'client_id', client_id, 'credit', amount::text, 'currency', currency,
                    'share_denominator', denominator, 'country', country, 'ends_on', ends_on
                ) ORDER BY client_id) FROM page), '[]'::json),
            'totals', coalesce((
                SELECT json_object_agg(currency, total::text ORDER BY currency)
                FROM (SELECT currency, sum(amount) AS total FROM live GROUP BY currency) AS t
            ), '{{}}'::json),
            'next_after', (
                SELECT max(client_id) FROM page
                HAVING EXISTS (SELECT 1 FROM live WHERE client_id > max(page.client_id))
            )
        )::text
        """,
        partner_id,
        day,
        after,
        limit,
    )
    return found


async def ledger_page(
    session: AsyncSession, partner_id: str, wanted: LedgerQuery, *, limit: int
) -> Sequence[LedgerEntry]:
    query = select(LedgerEntry).where(col(LedgerEntry.partner_id) == partner_id)
    if wanted.start is not None:
        query = query.where(col(LedgerEntry.effective_on) >= wanted.start)
    if wanted.end is not None:
        query = query.where(col(LedgerEntry.effective_on) <= wanted.end)
    if wanted.known_at is not None:
        query = query.where(col(LedgerEntry.recorded_at) <= wanted.known_at)
    if wanted.after is not None:
        query = query.where(col(LedgerEntry.id) > wanted.after)
    return (await session.scalars(query.order_by(col(LedgerEntry.id)).limit(limit))).all()


async def partner_user_facts(
    session: AsyncSession, partner_id: str, user_id: str | None = None
) -> Sequence[Fact]:
    """The partner's user facts (added, status changes) and its links, in event-time order."""
    query = select(Fact).where(
        col(Fact.partner_id) == partner_id,
        col(Fact.kind).startswith("partner_user.") | col(Fact.kind).startswith("link."),
    )
    if user_id is not None:
        query = query.where(col(Fact.user_id) == user_id)
    return (await session.scalars(query.order_by(col(Fact.at), col(Fact.event_id)))).all()


async def client_known(session: AsyncSession, client_id: str) -> bool:
    found = await session.scalar(
        select(col(Fact.event_id))
        .where(col(Fact.client_id) == client_id, col(Fact.kind) == CLIENT_CREATED)
        .limit(1)
    )
    return found is not None
