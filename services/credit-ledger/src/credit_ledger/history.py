"""Reads the facts of one client (and of the partners whose users touch it) into the domain's
ClientHistory, in event-time order."""

from collections import defaultdict
from collections.abc import Collection, Iterable
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from credit_ledger.domain.facts import (
    Activity,
    Change,
    ClientHistory,
    PartnerUser,
    Subscription,
    Timeline,
    UserStatus,
)
from credit_ledger.recording import ACCESS_REMOVED, LINKED, SERVICES_ENDED, UNLINKED
from credit_ledger.tables import Fact

T = TypeVar("T")

STATUS_OF = {
    "partner_user.added": UserStatus.ACTIVE,
    "partner_user.reactivated": UserStatus.ACTIVE,
    "partner_user.deactivated": UserStatus.DEACTIVATED,
    "partner_user.removed": UserStatus.REMOVED,
}
PARTNER_KINDS = ("partner.registered", "partner.employee_domain_changed", *STATUS_OF)


async def load_histories(
    session: AsyncSession, client_ids: Collection[str]
) -> dict[str, ClientHistory]:
    """The histories of many clients in three queries (a consumer batch touches hundreds)."""
    if not client_ids:
        return {}
    by_client: dict[str, list[Fact]] = {client_id: [] for client_id in client_ids}
    for fact in await session.scalars(select(Fact).where(col(Fact.client_id).in_(by_client))):
        by_client[fact.client_id or ""].append(fact)
    users = {f.user_id for facts in by_client.values() for f in facts if f.user_id}
    owners: dict[str, set[str]] = defaultdict(set)
    if users:
        rows = await session.execute(
            select(col(Fact.user_id), col(Fact.partner_id)).where(
                col(Fact.kind) == "partner_user.added", col(Fact.user_id).in_(users)
            )
        )
        for user_id, partner_id in rows:
            if user_id and partner_id:
                owners[user_id].add(partner_id)
    partner_ids = {p for partners in owners.values() for p in partners}
    partner_ids |= {f.partner_id for facts in by_client.values() for f in facts if f.partner_id}
    partner_facts: dict[str, list[Fact]] = defaultdict(list)
    if partner_ids:
        found = await session.scalars(
            select(Fact).where(
                col(Fact.partner_id).in_(partner_ids),
                col(Fact.kind).in_(PARTNER_KINDS),
                or_(col(Fact.user_id).is_(None), col(Fact.user_id).in_(users)),
            )
        )
        for fact in found:
            partner_facts[fact.partner_id or ""].append(fact)
    histories = {}
    for client_id, facts in by_client.items():
        client_users = {f.user_id for f in facts if f.user_id}
        partners = {f.partner_id for f in facts if f.partner_id}
        partners |= {p for user in client_users for p in owners.get(user, ())}
        relevant = [
            fact
            for partner_id in partners
            for fact in partner_facts.get(partner_id, ())
            if fact.user_id is None or fact.user_id in client_users
        ]
        histories[client_id] = build_history(client_id, [*relevant, *facts])
    return histories


async def load_history(session: AsyncSession, client_id: str) -> ClientHistory:
    return (await load_histories(session, [client_id]))[client_id]


def build_history(client_id: str, facts: Iterable[Fact]) -> ClientHistory:
    """Pure: the order of `facts` does not matter (timelines sort by event time, then id)."""
    history = ClientHistory(client_id)
    partners_of_user: dict[str, set[str]] = {}
    activities: list[Fact] = []
    # Later facts overwrite what a user is (email, employee flag): read them in event-time order.
    for fact in sorted(facts, key=lambda f: (f.at, f.source, f.event_id)):
        if fact.kind in ("partner.registered", "partner.employee_domain_changed"):
            domain = fact.data["employee_email_domain"]
            history.partner(_id(fact.partner_id)).employee_domain.add(_change(fact, domain))
        elif fact.kind in STATUS_OF:
            partner = history.partner(_id(fact.partner_id))
            user_id = _id(fact.user_id)
            if fact.kind == "partner_user.added":
                partners_of_user.setdefault(user_id, set()).add(partner.partner_id)
                known = partner.users.get(user_id)
                user = PartnerUser(user_id, fact.data["email"], fact.data["partner_employee"])
                if known is not None:
                    user.status = known.status
                partner.users[user_id] = user
            else:
                partner.users.setdefault(user_id, PartnerUser(user_id, "", False))
            partner.users[user_id].status.add(_change(fact, STATUS_OF[fact.kind]))
        elif fact.kind in ("client.created", "client.updated"):
            history.country.add(_change(fact, fact.data["country"]))
        elif fact.kind == "client.subscription_changed":
            mrr = Decimal(str(fact.data["mrr"]))
            history.subscription.add(_change(fact, Subscription(mrr, fact.data["currency"])))
        elif fact.kind in ("client.user_added", "client.user_removed"):
            added = fact.kind == "client.user_added"
            history.member(_id(fact.user_id)).add(_change(fact, added))
        elif fact.kind in (LINKED, UNLINKED):
            partner = history.partner(_id(fact.partner_id))
            links = partner.links.setdefault(_id(fact.user_id), Timeline())
            links.add(_change(fact, fact.kind == LINKED))
            if fact.kind == LINKED:  # linking again resumes ended services (M5)
                partner.services_ended.add(_change(fact, False))
        elif fact.kind == ACCESS_REMOVED:
            removals = history.partner(_id(fact.partner_id)).access_removed
            removals.setdefault(_id(fact.user_id), Timeline()).add(_change(fact, True))
        elif fact.kind == SERVICES_ENDED:
            history.partner(_id(fact.partner_id)).services_ended.add(_change(fact, True))
        elif fact.kind == "activity.performed":
            activities.append(fact)
    for fact in activities:
        activity = Activity(
            fact.event_id, _id(fact.user_id), fact.data["tool"], fact.data["action"], fact.at
        )
        for partner_id in partners_of_user.get(activity.user_id, ()):
            history.partner(partner_id).add_activity(activity)
    return history


def _change(fact: Fact, value: T) -> Change[T]:
    return Change(fact.at, f"{fact.source}/{fact.event_id}", value)


def _id(value: str | None) -> str:
    if value is None:
        raise ValueError("a fact of this kind always names the id")
    return value
