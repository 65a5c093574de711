"""Reads the facts of clients (and of the partners whose users touch them) into the domain's
ClientHistory, in event-time order. Plain asyncpg rows, not ORM objects: a batch reads hundreds
of clients."""

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, NamedTuple, TypeVar

from asyncpg import Connection

from credit_ledger.domain.facts import (
    Activity,
    Change,
    ClientHistory,
    ClientSubscription,
    PartnerUser,
    UserStatus,
)
from credit_ledger.recording import ACCESS_REMOVED, LINKED, SERVICES_ENDED, UNLINKED
from keel.events import catalogue

T = TypeVar("T")

STATUS_OF = {
    catalogue.PARTNER_USER_ADDED: UserStatus.ACTIVE,
    catalogue.PARTNER_USER_REACTIVATED: UserStatus.ACTIVE,
    catalogue.PARTNER_USER_DEACTIVATED: UserStatus.DEACTIVATED,
    catalogue.PARTNER_USER_REMOVED: UserStatus.REMOVED,
}
PARTNER_KINDS = [
    catalogue.PARTNER_REGISTERED,
    catalogue.PARTNER_EMPLOYEE_DOMAIN_CHANGED,
    *STATUS_OF,
]
COLUMNS = "source, event_id, kind, at, client_id, partner_id, user_id, data"


class FactRow(NamedTuple):
    source: str
    event_id: str
    kind: str
    at: datetime
    client_id: str | None
    partner_id: str | None
    user_id: str | None
    data: dict[str, Any]


def _rows(records: Iterable[Any]) -> list[FactRow]:
    return [FactRow._make(record) for record in records]  # jsonb arrives decoded


async def load_histories(
    connection: Connection,
    client_ids: Collection[str],
    *,
    activities: bool = True,
    activity_days: tuple[date, date] | None = None,
    activity_users: Mapping[str, Collection[str]] | None = None,
) -> dict[str, ClientHistory]:
    """The histories of many clients in three queries. Without `activities`, every fact but
    the activities, given the users known from them (`activity_users`): the fast path keeps
    their coverage instead. With `activity_days` (first, last), only the activities of those
    days, with every user known (a read of one day needs only its window)."""
    if not client_ids:
        return {}
    ids = list(client_ids)
    query = f"SELECT {COLUMNS} FROM fact WHERE client_id = ANY($1::text[])"
    arguments: list[Any] = [ids]
    if not activities:
        query += f" AND kind <> '{catalogue.ACTIVITY_PERFORMED}'"
    elif activity_days is not None:
        first, last = activity_days
        query += f" AND (kind <> '{catalogue.ACTIVITY_PERFORMED}' OR (at >= $2 AND at < $3))"
        arguments += [_midnight(first), _midnight(last + timedelta(days=1))]
    by_client: dict[str, list[FactRow]] = {client_id: [] for client_id in ids}
    for fact in _rows(await connection.fetch(query, *arguments)):
        by_client[fact.client_id or ""].append(fact)
    users_of: dict[str, set[str]] = {
        client_id: {f.user_id for f in facts if f.user_id} for client_id, facts in by_client.items()
    }
    if activity_days is not None:  # users known from activities outside the days too
        for client_id, user_id in await connection.fetch(
            "SELECT DISTINCT client_id, user_id FROM fact WHERE client_id = ANY($1::text[])"
            f" AND kind = '{catalogue.ACTIVITY_PERFORMED}'",
            ids,
        ):
            users_of[client_id].add(user_id)
    for client_id, known in (activity_users or {}).items():
        users_of[client_id].update(known)
    users = set().union(*users_of.values())
    owners: dict[str, set[str]] = defaultdict(set)
    for user_id, partner_id in await connection.fetch(
        "SELECT user_id, partner_id FROM fact"
        f" WHERE kind = '{catalogue.PARTNER_USER_ADDED}' AND user_id = ANY($1::text[])",
        sorted(users),
    ):
        if user_id and partner_id:
            owners[user_id].add(partner_id)
    partner_ids = {p for partners in owners.values() for p in partners}
    partner_ids |= {f.partner_id for facts in by_client.values() for f in facts if f.partner_id}
    partner_facts: dict[str, list[FactRow]] = defaultdict(list)
    if partner_ids:
        found = await connection.fetch(
            f"SELECT {COLUMNS} FROM fact WHERE partner_id = ANY($1::text[])"
            " AND kind = ANY($2::text[]) AND (user_id IS NULL OR user_id = ANY($3::text[]))",
            sorted(partner_ids),
            PARTNER_KINDS,
            sorted(users),
        )
        for fact in _rows(found):
            partner_facts[fact.partner_id or ""].append(fact)
    histories = {}
    for client_id, facts in by_client.items():
        client_users = users_of[client_id]
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


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def build_history(client_id: str, facts: Iterable[FactRow]) -> ClientHistory:
    """Pure: the order of `facts` does not matter (timelines sort by event time, then id)."""
    history = ClientHistory(client_id)
    partners_of_user: dict[str, set[str]] = {}
    activities: list[FactRow] = []
    # Later facts overwrite what a user is (email, employee flag): read them in event-time order.
    for fact in sorted(facts, key=lambda f: (f.at, f.source, f.event_id)):
        if fact.kind in (catalogue.PARTNER_REGISTERED, catalogue.PARTNER_EMPLOYEE_DOMAIN_CHANGED):
            domain = fact.data["employee_email_domain"]
            history.partner(_id(fact.partner_id)).employee_domain.add(_change(fact, domain))
        elif fact.kind in STATUS_OF:
            partner = history.partner(_id(fact.partner_id))
            user_id = _id(fact.user_id)
            if fact.kind == catalogue.PARTNER_USER_ADDED:
                partners_of_user.setdefault(user_id, set()).add(partner.partner_id)
                known = partner.users.get(user_id)
                user = PartnerUser(user_id, fact.data["email"], fact.data["partner_employee"])
                if known is not None:
                    user.status = known.status
                partner.users[user_id] = user
            else:
                partner.user(user_id)
            partner.users[user_id].status.add(_change(fact, STATUS_OF[fact.kind]))
        elif fact.kind in (catalogue.CLIENT_CREATED, catalogue.CLIENT_UPDATED):
            history.country.add(_change(fact, fact.data["country"]))
        elif fact.kind == catalogue.CLIENT_SUBSCRIPTION_CHANGED:
            mrr = Decimal(str(fact.data["mrr"]))
            history.subscription.add(_change(fact, ClientSubscription(mrr, fact.data["currency"])))
        elif fact.kind in (catalogue.CLIENT_USER_ADDED, catalogue.CLIENT_USER_REMOVED):
            added = fact.kind == catalogue.CLIENT_USER_ADDED
            history.member(_id(fact.user_id)).add(_change(fact, added))
        elif fact.kind in (LINKED, UNLINKED):
            partner = history.partner(_id(fact.partner_id))
            partner.link(_id(fact.user_id)).add(_change(fact, fact.kind == LINKED))
            if fact.kind == LINKED:  # linking again resumes ended services (M5)
                partner.services_ended.add(_change(fact, False))
        elif fact.kind == ACCESS_REMOVED:
            partner = history.partner(_id(fact.partner_id))
            partner.access_removal(_id(fact.user_id)).add(_change(fact, True))
        elif fact.kind == SERVICES_ENDED:
            history.partner(_id(fact.partner_id)).services_ended.add(_change(fact, True))
        elif fact.kind == catalogue.ACTIVITY_PERFORMED:
            activities.append(fact)
    for fact in activities:
        activity = Activity(
            fact.event_id, _id(fact.user_id), fact.data["tool"], fact.data["action"], fact.at
        )
        for partner_id in partners_of_user.get(activity.user_id, ()):
            history.partner(partner_id).add_activity(activity)
    return history


def _change(fact: FactRow, value: T) -> Change[T]:
    return Change(fact.at, f"{fact.source}/{fact.event_id}", value)


def _id(value: str | None) -> str:
    if value is None:
        raise ValueError("a fact of this kind always names the id")
    return value
