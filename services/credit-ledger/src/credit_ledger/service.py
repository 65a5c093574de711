"""Use cases behind the HTTP API: reads computed from facts and the ledger, and the client
access manager's actions (M4, M5), each recorded as a fact and applied at once. The one place
that commits."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from credit_ledger import ledger, repository
from credit_ledger.config import SERVICE_NAME
from credit_ledger.domain.attribution import attribute
from credit_ledger.domain.checklist import UserInClient, users_in_client
from credit_ledger.domain.policy import ManagedPolicy
from credit_ledger.history import STATUS_OF, load_histories, load_history
from credit_ledger.recording import LINKED, fact_row
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
    ManagedClientRead,
    ManagedCreditRead,
    ManagingPartnerRead,
    NotManagingPartnerRead,
    PartnerAttributionRead,
    StepRead,
    UserInClientRead,
    WindowRead,
)
from keel.errors import NotFound
from keel.policy import require_evaluable


async def attribution(
    session: AsyncSession, client_id: str, as_of: date, policy: ManagedPolicy
) -> AttributionRead:
    """M8: the client's figures on a day, down to the activities that make them."""
    require_evaluable(as_of, policy.first_day, "as_of")
    history = await load_history(session, client_id)
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
    history = await load_history(session, client_id)
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
        users=[_user_in_client(u) for u in users_in_client(history, partner_id, as_of, policy)],
    )


def _user_in_client(user: UserInClient) -> UserInClientRead:
    return UserInClientRead(
        user_id=user.user_id,
        email=user.email,
        partner_employee=user.partner_employee,
        status=user.status,
        assignment=user.assignment,
        member=user.member,
        access_removed_on=user.access_removed_on,
        services_ended_on=user.services_ended_on,
        last_qualifying_activity_at=user.last_qualifying_at,
        qualifies=user.qualifies,
        activities=[
            CountingActivityRead.model_validate(a, from_attributes=True) for a in user.counting
        ],
        steps=[StepRead.model_validate(step, from_attributes=True) for step in user.steps],
    )


async def _managed_on(
    session: AsyncSession, partner_id: str, as_of: date
) -> list[ManagedClientRead]:
    current = [e for e in await repository.credits_on(session, partner_id, as_of) if e.amount != 0]
    ends = await repository.first_end_after(
        session, partner_id, [e.client_id for e in current], as_of
    )
    return [
        ManagedClientRead(
            client_id=entry.client_id,
            credit=entry.amount,
            currency=entry.currency,
            share_denominator=entry.denominator,
            country=entry.country,
            ends_on=ends.get(entry.client_id),
        )
        for entry in current
    ]


def _totals(amounts: Sequence[tuple[str, Decimal]]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for currency, amount in amounts:
        totals[currency] += amount
    return dict(sorted(totals.items()))


async def managed_credit(session: AsyncSession, partner_id: str, as_of: date) -> ManagedCreditRead:
    clients = await _managed_on(session, partner_id, as_of)
    return ManagedCreditRead(
        partner_id=partner_id,
        as_of=as_of,
        clients=clients,
        totals=_totals([(c.currency, c.credit) for c in clients]),
    )


async def expiring(
    session: AsyncSession, partner_id: str, as_of: date, within_days: int
) -> ExpiringRead:
    """Clients whose credit ends within N days unless a new qualifying activity happens (M6)."""
    horizon = as_of + timedelta(days=within_days)
    managed = await _managed_on(session, partner_id, as_of)
    at_risk = [
        ExpiringClientRead(
            client_id=c.client_id, ends_on=c.ends_on, credit_at_risk=c.credit, currency=c.currency
        )
        for c in managed
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
        f.kind == "partner_user.added"
        for f in await repository.partner_user_facts(session, partner_id, user_id)
    ):
        raise NotFound(f"user {user_id} is not a user of partner {partner_id}")
    event_id = str(uuid4())
    fact = fact_row(
        source=SERVICE_NAME,
        event_id=event_id,
        kind=action,
        at=now,
        partner_id=partner_id,
        client_id=client_id,
        user_id=user_id,
    )
    await repository.record_facts(session, [fact])
    cause = [f"{SERVICE_NAME}/{event_id}"]
    touched = {client_id: ledger.Touch(now.astimezone(UTC).date(), cause)}
    await ledger.refresh_clients(session, touched, policy=policy, recorded_at=now)
    await session.commit()
    return AccessActionRead(
        partner_id=partner_id,
        client_id=client_id,
        user_id=user_id,
        action=action,
        event_id=event_id,
        at=now,
    )


async def employees(
    session: AsyncSession, partner_id: str, as_of: date, policy: ManagedPolicy
) -> EmployeesRead:
    """Every user of the partner with status and employee flag, and every client it is known
    in: assigned automatically (M4) or by hand, member, access removed, last qualifying activity."""
    found: dict[str, EmployeeRead] = {}
    links: dict[str, dict[str, bool]] = defaultdict(dict)
    for fact in await repository.partner_user_facts(session, partner_id):
        user_id = fact.user_id or ""
        if fact.kind == "partner_user.added":
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
    for client_id, history in sorted((await load_histories(session, clients)).items()):
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
                        last_qualifying_activity_at=user.last_qualifying_at,
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
