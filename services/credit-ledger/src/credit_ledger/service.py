"""Use cases behind the HTTP API: reads computed from facts and the ledger, and the client
access manager's actions (M4, M5), each recorded as a fact and applied at once. The one place
that commits."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from credit_ledger import repository
from credit_ledger.config import SERVICE_NAME
from credit_ledger.domain.attribution import attribute
from credit_ledger.domain.checklist import users_in_client
from credit_ledger.domain.policy import ManagedPolicy
from credit_ledger.history import STATUS_OF, load_histories
from credit_ledger.recording import LINKED, fact_row
from credit_ledger.refresh import Touch, refresh
from credit_ledger.schemas import (
    AccessActionRead,
    AttributionRead,
    CountingActivityRead,
    EmployeeClientRead,
    EmployeeRead,
    EmployeesRead,
    ExpiringClientRead,
    ExpiringRead,
    LedgerEntryRead,
    LedgerPage,
    LedgerQuery,
    ManagedPageQuery,
    ManagingPartnerRead,
    NotManagingPartnerRead,
    PartnerAttributionRead,
    UserInClientRead,
    WindowRead,
)
from keel.errors import NotFound
from keel.events.catalogue import PARTNER_USER_ADDED
from keel.policy import require_evaluable


async def attribution(
    session: AsyncSession, client_id: str, as_of: date, policy: ManagedPolicy
) -> AttributionRead:
    """M8: the client's figures on a day, down to the activities that make them. Only the
    activities that can count that day are read: those of the longest window before it."""
    require_evaluable(as_of, policy.first_day, "as_of")
    longest = max(policy.window_lengths())
    days = (as_of - timedelta(days=longest), as_of)
    connection = await repository.driver(session)
    history = (await load_histories(connection, [client_id], activity_days=days))[client_id]
    if not history.partners and not history.subscription.changes:
        raise NotFound(f"no facts are known about client {client_id}")
    result = attribute(history, as_of, policy)
    return AttributionRead(
        client_id=client_id,
        as_of=as_of,
        mrr=result.mrr,
        currency=result.currency,
        country=result.country,
        window=WindowRead(**result.window.model_dump()),
        qualifying_actions_version=result.actions_version,
        managing=[
            ManagingPartnerRead(
                partner_id=share.partner_id,
                share=f"1/{share.denominator}",
                credit=share.credit,
                qualifying_users=list(share.verdict.qualifying_users),
                activities=[
                    CountingActivityRead.model_validate(a, from_attributes=True)
                    for a in share.verdict.counting
                ],
                ends_on=share.verdict.ends_on,
            )
            for share in result.shares
        ],
        not_managing=[
            NotManagingPartnerRead(partner_id=v.partner_id, reasons=list(v.reasons))
            for v in result.not_managing
        ],
    )


async def partner_attribution(
    session: AsyncSession, partner_id: str, client_id: str, as_of: date, policy: ManagedPolicy
) -> PartnerAttributionRead:
    """M8 seen by one partner (D5): its share and the denominator, and its own users step by
    step (D3); the other partners are only counted."""
    require_evaluable(as_of, policy.first_day, "as_of")
    connection = await repository.driver(session)
    history = (await load_histories(connection, [client_id]))[client_id]
    if partner_id not in history.partners:
        raise NotFound(f"partner {partner_id} has no users known in client {client_id}")
    result = attribute(history, as_of, policy)
    share = next((s for s in result.shares if s.partner_id == partner_id), None)
    return PartnerAttributionRead(
        partner_id=partner_id,
        client_id=client_id,
        as_of=as_of,
        mrr=result.mrr,
        currency=result.currency,
        window=WindowRead(**result.window.model_dump()),
        qualifying_actions_version=result.actions_version,
        manages=share is not None,
        share=f"1/{share.denominator}" if share else None,
        share_denominator=len(result.shares),
        credit=share.credit if share else Decimal(0),
        ends_on=share.verdict.ends_on if share else None,
        users=[
            UserInClientRead.model_validate(user, from_attributes=True)
            for user in users_in_client(history, partner_id, as_of, policy)
        ],
    )


def _totals(amounts: Sequence[tuple[str, Decimal]]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for currency, amount in amounts:
        totals[currency] += amount
    return dict(sorted(totals.items()))


async def managed_credit(
    session: AsyncSession, partner_id: str, as_of: date, page: ManagedPageQuery
) -> str:
    """ManagedCreditRead as JSON, from the read table (a keyset page of clients)."""
    connection = await repository.driver(session)
    return await repository.managed_document(
        connection, partner_id, as_of, after=page.after, limit=page.page_size
    )


async def expiring(
    session: AsyncSession, partner_id: str, as_of: date, within_days: int
) -> ExpiringRead:
    """Clients whose credit ends within N days unless a new qualifying activity happens (M6)."""
    horizon = as_of + timedelta(days=within_days)
    connection = await repository.driver(session)
    at_risk = [
        ExpiringClientRead(
            client_id=c.client_id, ends_on=c.ends_on, credit_at_risk=c.amount, currency=c.currency
        )
        for c in await repository.managed_on(connection, partner_id, as_of)
        if c.ends_on is not None and c.ends_on <= horizon
    ]
    return ExpiringRead(
        partner_id=partner_id,
        as_of=as_of,
        within_days=within_days,
        clients=sorted(at_risk, key=lambda c: (c.ends_on, c.client_id)),
        at_risk=_totals([(c.currency, c.credit_at_risk) for c in at_risk]),
    )


async def ledger_page(session: AsyncSession, partner_id: str, wanted: LedgerQuery) -> LedgerPage:
    # One more than a page tells whether there is a next one.
    entries = await repository.ledger_page(session, partner_id, wanted, limit=wanted.page_size + 1)
    page = entries[: wanted.page_size]
    return LedgerPage(
        partner_id=partner_id,
        entries=[
            LedgerEntryRead(
                id=e.id or 0,
                client_id=e.client_id,
                effective_on=e.effective_on,
                amount=e.amount,
                currency=e.currency,
                share_denominator=e.denominator,
                country=e.country,
                rule=e.rule,
                cause=e.cause,
                recorded_at=e.recorded_at,
            )
            for e in page
        ],
        next_after=page[-1].id if len(entries) > wanted.page_size else None,
    )


async def act_on_access(
    session: AsyncSession,
    *,
    partner_id: str,
    client_id: str,
    user_id: str | None,
    action: str,
    now: datetime,
    policy: ManagedPolicy,
) -> AccessActionRead:
    """Record a client-access action as a fact at the request time and apply it at once."""
    if not await repository.client_known(session, client_id):
        raise NotFound(f"client {client_id} is not known")
    if user_id is not None and not any(
        f.kind == PARTNER_USER_ADDED
        for f in await repository.partner_user_facts(session, partner_id, user_id)
    ):
        raise NotFound(f"user {user_id} is not a user of partner {partner_id}")
    fact = fact_row(
        source=SERVICE_NAME,
        event_id=str(uuid4()),
        kind=action,
        at=now,
        partner_id=partner_id,
        client_id=client_id,
        user_id=user_id,
    )
    await repository.record_facts(await repository.driver(session), [fact])
    touched = {client_id: Touch(now.astimezone(UTC).date(), [f"{SERVICE_NAME}/{fact['event_id']}"])}
    await refresh(session, derived=touched, policy=policy, recorded_at=now)
    await session.commit()
    return AccessActionRead.model_validate({**fact, "action": action})  # the fact as recorded


async def employees(
    session: AsyncSession, partner_id: str, as_of: date, policy: ManagedPolicy
) -> EmployeesRead:
    """Every user of the partner with status and employee flag, and every client it is known
    in: assigned automatically (M4) or by hand, member, access removed, last qualifying activity."""
    found: dict[str, EmployeeRead] = {}
    links: dict[str, dict[str, bool]] = defaultdict(dict)
    for fact in await repository.partner_user_facts(session, partner_id):
        user_id = fact.user_id or ""
        if fact.kind == PARTNER_USER_ADDED:
            found[user_id] = EmployeeRead(
                user_id=user_id,
                email=fact.data["email"],
                partner_employee=fact.data["partner_employee"],
                status=STATUS_OF[fact.kind],
                linked_clients=[],
            )
        elif fact.kind in STATUS_OF and user_id in found:
            found[user_id].status = STATUS_OF[fact.kind]
        elif fact.client_id is not None:
            links[user_id][fact.client_id] = fact.kind == LINKED
    clients = await repository.clients_of_partners(session, [partner_id])
    connection = await repository.driver(session)
    for client_id, history in sorted((await load_histories(connection, clients)).items()):
        for user in users_in_client(history, partner_id, as_of, policy):
            if user.user_id in found:
                found[user.user_id].clients.append(
                    EmployeeClientRead(
                        client_id=client_id,
                        assignment=user.assignment,
                        member=user.member,
                        access_removed=user.access_removed_on is not None,
                        access_removed_on=user.access_removed_on,
                        services_ended_on=user.services_ended_on,
                        last_qualifying_activity_at=user.last_qualifying_activity_at,
                        qualifies=user.qualifies,
                    )
                )
    for user_id, employee in found.items():
        employee.linked_clients = sorted(c for c, on in links[user_id].items() if on)
    return EmployeesRead(
        partner_id=partner_id,
        as_of=as_of,
        employees=sorted(found.values(), key=lambda e: e.user_id),
    )
