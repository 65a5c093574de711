"""Queries of registrations and partner capacities; may flush, never commits.

"Active at `now`" is one condition everywhere: status `active` and not past `expires_at`, so a
registration due to expire stops counting at its expiry, whether or not the sweep has run (C4).
"""

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

import asyncpg
from sqlalchemy import ColumnElement, Row, Table, and_, func, or_, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from capacity.schemas import RegistrationQuery, RegistrationStatus, SortField
from capacity.tables import ACTIVE, DEREGISTERED, EXPIRED, PartnerCapacity, Registration
from keel.events.payloads.tier import Tier
from keel.kafka.publisher import Message

PARTNER: Table = PartnerCapacity.__table__  # type: ignore[attr-defined]
REGISTRATION: Table = Registration.__table__  # type: ignore[attr-defined]
R = REGISTRATION.c
ACTIVE_ROW = text("status = 'active'")  # the predicate of the C3 partial unique index


def active_at(now: datetime) -> ColumnElement[bool]:
    return and_(R.status == ACTIVE, or_(R.expires_at.is_(None), R.expires_at > now))


def expired_at(now: datetime) -> ColumnElement[bool]:
    return or_(R.status == EXPIRED, and_(R.status == ACTIVE, R.expires_at <= now))


class PartnerFacts(NamedTuple):
    """What sets a partner's limit (C2, C6)."""

    partner_type: str
    tier: str | None


async def partner(session: AsyncSession, partner_id: str) -> PartnerFacts | None:
    statement = select(PARTNER.c.partner_type, PARTNER.c.tier).where(
        PARTNER.c.partner_id == partner_id
    )
    found = (await session.execute(statement)).one_or_none()
    return None if found is None else PartnerFacts(*found)


async def count_active(session: AsyncSession, partner_id: str, now: datetime) -> int:
    statement = select(func.count()).where(R.partner_id == partner_id, active_at(now))
    return int(await session.scalar(statement) or 0)


ENDED = (R.id, R.partner_id, R.domain, R.ended_at)


def _registered_and_queued(p: dict[str, int]) -> str:
    """The registration written if `admitted` holds a row, and its announcement queued only if
    it was written (C3: not if the domain has an active registration); `p` numbers the
    parameters (only numbers are formatted into the text)."""
    return f"""
    registered AS (
        INSERT INTO registration (id, partner_id, domain, website, company, contact_name,
                                  country, status, registered_at, expires_at)
        SELECT ${p["id"]}::text, ${p["partner"]}::text, ${p["domain"]}::text,
               ${p["website"]}::text, ${p["company"]}::text, ${p["contact"]}::text,
               ${p["country"]}::text, 'active', ${p["at"]}::timestamptz,
               ${p["expires"]}::timestamptz
        FROM admitted
        ON CONFLICT (domain) WHERE status = 'active' DO NOTHING
        RETURNING id
    ), queued AS (
        INSERT INTO outbox_message (topic, key, value, headers)
        SELECT ${p["topic"]}::text, ${p["partner"]}::text, ${p["message"]}::bytea,
               ${p["headers"]}::text::jsonb
        FROM registered
    )"""  # noqa: S608


_FAST = {
    "partner": 1, "type": 2, "tiers": 3, "limits": 4, "id": 5, "domain": 6, "website": 7,
    "company": 8, "contact": 9, "country": 10, "at": 11, "expires": 12, "topic": 13,
    "message": 14, "headers": 15,
}  # fmt: skip
# C2, C3 in one statement: lock the partner's row (made untiered on first use) and count the
# registration into its bound; below the limit the bound proves there is room, and the
# registration and its announcement are written. Otherwise nothing is written and the caller
# counts exactly under the lock it now holds. `type` is the partner type the limits and expiry
# were chosen for: a partner of another type is not admitted here either.
REGISTER = f"""
WITH partner AS (
    INSERT INTO partner_capacity AS p (partner_id, partner_type, active_count)
    VALUES ($1, 'solutions', 1)
    ON CONFLICT (partner_id) DO UPDATE SET active_count = p.active_count + 1
    RETURNING p.partner_type, p.tier, p.active_count
), admitted AS (
    SELECT 1 FROM partner
    WHERE partner.partner_type = $2 AND partner.active_count <= (
        SELECT l.lim FROM unnest($3::text[], $4::int[]) AS l(tier, lim)
        WHERE l.tier = coalesce(partner.tier, 'partner')
    )
), {_registered_and_queued(_FAST)}
SELECT partner.partner_type, partner.tier,
       EXISTS (SELECT 1 FROM admitted) AS admitted,
       EXISTS (SELECT 1 FROM registered) AS registered
FROM partner
"""  # noqa: S608
_SLOW = {
    "partner": 1, "id": 2, "domain": 3, "website": 4, "company": 5, "contact": 6, "country": 7,
    "at": 8, "expires": 9, "topic": 10, "message": 11, "headers": 12,
}  # fmt: skip
INSERT_REGISTRATION = f"""
WITH admitted AS (SELECT 1), {_registered_and_queued(_SLOW)}
SELECT EXISTS (SELECT 1 FROM registered)
"""  # noqa: S608
COUNT = """
SELECT count(*) FILTER (WHERE expires_at IS NULL OR expires_at > $2) AS used, count(*) AS active
FROM registration WHERE partner_id = $1 AND status = 'active'
"""
EXPIRE_DOMAIN = """
UPDATE registration SET status = 'expired', ended_at = expires_at
WHERE domain = $1 AND status = 'active' AND expires_at <= $2
RETURNING id, partner_id, domain, ended_at
"""


class Decision(NamedTuple):
    """The outcome of REGISTER: the locked partner's facts, whether its bound admitted the
    registration, and whether it was written."""

    partner: PartnerFacts
    admitted: bool
    registered: bool


def _values(registration: Registration, announcement: Message, headers: str) -> list[Any]:
    return [
        registration.id,
        registration.domain,
        registration.website,
        registration.company,
        registration.contact_name,
        registration.country,
        registration.registered_at,
        registration.expires_at,
        announcement.topic,
        announcement.value,
        headers,
    ]


async def register(
    connection: asyncpg.Connection,
    registration: Registration,
    announcement: Message,
    headers: str,
    *,
    limits: Mapping[Tier, int],
    partner_type: str,
) -> Decision:
    """REGISTER, with the limit of each tier for `partner_type`."""
    row = await connection.fetchrow(
        REGISTER,
        registration.partner_id,
        partner_type,
        list(limits),
        list(limits.values()),
        *_values(registration, announcement, headers),
    )
    return Decision(
        PartnerFacts(row["partner_type"], row["tier"]), row["admitted"], row["registered"]
    )


async def insert_registration(
    connection: asyncpg.Connection, registration: Registration, announcement: Message, headers: str
) -> bool:
    """False when the domain already has an active registration (C3), this transaction waiting
    for a concurrent one that registers it to end first."""
    return bool(
        await connection.fetchval(
            INSERT_REGISTRATION,
            registration.partner_id,
            *_values(registration, announcement, headers),
        )
    )


async def count_and_bound(
    connection: asyncpg.Connection, partner_id: str, now: datetime, *, adding: int
) -> int:
    """The partner's registrations active at `now` (C2, C4), counted exactly; its bound is
    reset to those with status `active` plus `adding`. Call it holding the partner's lock."""
    counted = await connection.fetchrow(COUNT, partner_id, now)
    await connection.execute(
        "UPDATE partner_capacity SET active_count = $2 WHERE partner_id = $1",
        partner_id,
        counted["active"] + adding,
    )
    return int(counted["used"])


class Ended(NamedTuple):
    id: str
    partner_id: str
    domain: str
    ended_at: datetime


async def expire_domain(connection: asyncpg.Connection, domain: str, now: datetime) -> list[Ended]:
    """Mark the domain's active registration expired if its time has passed (C4)."""
    return [Ended(*row) for row in await connection.fetch(EXPIRE_DOMAIN, domain, now)]


async def expire_due(session: AsyncSession, now: datetime, limit: int) -> Sequence[Row[Any]]:
    """Up to `limit` registrations past their expiry marked expired, at their expiry (C4);
    rows another transaction holds are left to the next pass."""
    due = (
        select(R.id)
        .where(R.status == ACTIVE, R.expires_at <= now)
        .order_by(R.expires_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    statement = (
        update(REGISTRATION)
        .where(R.id.in_(due.scalar_subquery()))
        .values(status=EXPIRED, ended_at=R.expires_at)
        .returning(*ENDED)
    )
    return (await session.execute(statement)).all()


async def deregister(
    session: AsyncSession, partner_id: str, domains: Collection[str], now: datetime
) -> Sequence[Registration]:
    statement = (
        update(Registration)
        .where(R.partner_id == partner_id, R.domain.in_(domains), active_at(now))
        .values(status=DEREGISTERED, ended_at=now)
        .returning(Registration)
    )
    return (await session.scalars(statement)).all()


def _matching(partner_id: str, wanted: RegistrationQuery, now: datetime) -> list[Any]:
    conditions: list[Any] = [R.partner_id == partner_id]
    if wanted.status == RegistrationStatus.ACTIVE:
        conditions.append(active_at(now))
    elif wanted.status == RegistrationStatus.EXPIRED:
        conditions.append(expired_at(now))
    elif wanted.status == RegistrationStatus.DEREGISTERED:
        conditions.append(R.status == DEREGISTERED)
    if wanted.q:
        escaped = wanted.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        conditions.append(
            or_(
                *(
                    column.ilike(pattern)
                    for column in (R.domain, R.company, R.contact_name, R.country)
                )
            )
        )
    return conditions


async def page(
    session: AsyncSession, partner_id: str, wanted: RegistrationQuery, now: datetime
) -> tuple[Sequence[Registration], int]:
    conditions = _matching(partner_id, wanted, now)
    total = int(await session.scalar(select(func.count()).where(*conditions)) or 0)
    column: ColumnElement[Any] = R[wanted.sort.value]
    if wanted.sort != SortField.REGISTERED_AT:  # people expect "anna" beside "Anna", not after "Z"
        column = func.lower(column)
    ordering = column.asc() if wanted.order == "asc" else column.desc()
    tie = R.id.asc() if wanted.order == "asc" else R.id.desc()
    rows = await session.scalars(
        select(Registration)
        .where(*conditions)
        .order_by(ordering, tie)
        .offset((wanted.page - 1) * wanted.page_size)
        .limit(wanted.page_size)
    )
    return rows.all(), total


async def latest_of_domain(
    session: AsyncSession, domain: str, now: datetime
) -> Registration | None:
    """The domain's active registration, else its most recent one."""
    statement = (
        select(Registration)
        .where(R.domain == domain)
        .order_by(active_at(now).desc(), R.registered_at.desc())
        .limit(1)
    )
    return (await session.scalars(statement)).first()


async def record_partner_type(session: AsyncSession, partner_id: str, partner_type: str) -> None:
    statement = insert(PARTNER).values(partner_id=partner_id, partner_type=partner_type)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[PARTNER.c.partner_id], set_={"partner_type": partner_type}
        )
    )


async def record_tier(
    session: AsyncSession,
    *,
    partner_id: str,
    partner_type: str,
    tier: str | None,
    month: str,
    revision: int,
) -> None:
    """Keep the tier of the latest (month, revision) only: a late older one changes nothing (C6)."""
    values = {
        "partner_id": partner_id,
        "partner_type": partner_type,
        "tier": tier,
        "tier_month": month,
        "tier_revision": revision,
    }
    statement = insert(PARTNER).values(values)
    current = PARTNER.c
    newer = or_(
        current.tier_month.is_(None),
        tuple_(current.tier_month, current.tier_revision)
        < tuple_(statement.excluded.tier_month, statement.excluded.tier_revision),
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[current.partner_id],
            set_={name: value for name, value in values.items() if name != "partner_id"},
            where=newer,
        )
    )
