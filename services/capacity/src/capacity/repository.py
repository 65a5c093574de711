"""Queries of registrations and partner capacities; may flush, never commits.

"Active at `now`" is one condition everywhere: status `active` and not past `expires_at`, so a
registration due to expire stops counting at its expiry, whether or not the sweep has run (C4).
"""

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Row, Table, and_, func, or_, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from capacity.schemas import RegistrationQuery, RegistrationStatus, SortField
from capacity.tables import ACTIVE, DEREGISTERED, EXPIRED, PartnerCapacity, Registration

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


async def lock_partner(session: AsyncSession, partner_id: str) -> PartnerFacts:
    """The partner's row, created untiered if unknown, locked until the transaction ends: every
    registration of the partner passes here, so they count one at a time (C2)."""
    statement = (
        insert(PARTNER)
        .values(partner_id=partner_id, partner_type="solutions")
        .on_conflict_do_update(
            index_elements=[PARTNER.c.partner_id], set_={"partner_id": PARTNER.c.partner_id}
        )
        .returning(PARTNER.c.partner_type, PARTNER.c.tier)
    )
    return PartnerFacts(*(await session.execute(statement)).one())


async def partner(session: AsyncSession, partner_id: str) -> PartnerFacts | None:
    statement = select(PARTNER.c.partner_type, PARTNER.c.tier).where(
        PARTNER.c.partner_id == partner_id
    )
    found = (await session.execute(statement)).one_or_none()
    return None if found is None else PartnerFacts(*found)


async def count_active(session: AsyncSession, partner_id: str, now: datetime) -> int:
    statement = select(func.count()).where(R.partner_id == partner_id, active_at(now))
    return int(await session.scalar(statement) or 0)


async def insert_registration(session: AsyncSession, row: dict[str, Any]) -> bool:
    """False when the domain already has an active registration (C3), this transaction waiting
    for a concurrent one that registers it to end first."""
    statement = (
        insert(REGISTRATION)
        .values(row)
        .on_conflict_do_nothing(index_elements=[R.domain], index_where=ACTIVE_ROW)
        .returning(R.id)
    )
    return (await session.execute(statement)).first() is not None


ENDED = (R.id, R.partner_id, R.domain, R.ended_at)


async def expire_domain(session: AsyncSession, domain: str, now: datetime) -> Sequence[Row[Any]]:
    """Mark the domain's active registration expired if its time has passed (C4)."""
    statement = (
        update(REGISTRATION)
        .where(R.domain == domain, R.status == ACTIVE, R.expires_at <= now)
        .values(status=EXPIRED, ended_at=R.expires_at)
        .returning(*ENDED)
    )
    return (await session.execute(statement)).all()


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
