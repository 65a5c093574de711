"""Capacity's canonical state for the state digest (issue 12 point 8): the registrations active
at the end of the day and every known partner's limit, as known now (C2, C4, C5, C6)."""

from sqlalchemy import or_, select
from sqlmodel import col

from capacity.dependencies import PolicyDep
from capacity.tables import PartnerCapacity, Registration
from keel.clock import day_end
from keel.digest import Row
from keel.events.payloads.account import PartnerType
from keel.events.payloads.tier import Tier
from keel.http.dependencies import AsOfDep, SessionDep
from keel.policy import require_evaluable


async def capacity_state(session: SessionDep, policy: PolicyDep, day: AsOfDep) -> list[Row]:
    """Registrations by domain (their ids are generated, so left out) and limits by partner,
    at the limits of the policy in force on the day and each partner's current tier."""
    version = policy.on(require_evaluable(day, policy.first_day, "as_of"))
    end = day_end(day)
    active = select(
        col(Registration.partner_id),
        col(Registration.domain),
        col(Registration.company),
        col(Registration.contact_name),
        col(Registration.country),
        col(Registration.registered_at),
    ).where(
        col(Registration.registered_at) < end,
        or_(col(Registration.ended_at).is_(None), col(Registration.ended_at) >= end),
        or_(col(Registration.expires_at).is_(None), col(Registration.expires_at) >= end),
    )
    rows: list[Row] = [("registration", *row) for row in await session.execute(active)]
    for partner in await session.scalars(select(PartnerCapacity)):
        tier = Tier(partner.tier) if partner.tier else None
        limit = version.limit(tier, PartnerType(partner.partner_type))
        rows.append(("limit", partner.partner_id, partner.tier, partner.partner_type, limit))
    return rows
