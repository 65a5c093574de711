"""Use cases behind the portal's API, and behind its pages to come: each gathers the portal's
own facts and the owners' figures (one upstream call per section, concurrently) and never
recomputes an owner's figure. Reads only: the portal's database is written by its consumers."""

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Row

from keel.errors import FieldError, NotFound, ValidationFailed
from keel.money import display
from partner_portal import repository
from partner_portal.domain.alerts import capacity_warning, used_percent
from partner_portal.domain.clients import (
    ClientRow,
    Engagement,
    Relationship,
    engagement,
    relationship,
    select_rows,
    sold_after,
)
from partner_portal.domain.point_changes import ClientChange, ClientPoints, point_changes
from partner_portal.domain.renewals import (
    RenewalFacts,
    current_renewal,
    decision_due,
    next_renewal,
)
from partner_portal.domain.why_credited import Step, UserSteps, why_credited
from partner_portal.owners import Portal
from partner_portal.schemas import (
    AlertsRead,
    AttributionAnswer,
    BreakdownAnswer,
    CapacityAlertRead,
    ChangeGroupRead,
    ClientChangeRead,
    ClientDetailRead,
    ClientRowRead,
    ClientsPage,
    ClientsQuery,
    CompanyRead,
    DashboardRead,
    EmployeeRead,
    EmployeesRead,
    EngagementRead,
    LinksRead,
    ManagedClientAnswer,
    PointChangesQuery,
    PointChangesRead,
    ReadyAnswer,
    RenewalAlertRead,
    RenewalRead,
    RenewalsOfClientRead,
    RenewalsRead,
    SectionRead,
    Sections,
    SubscriptionRead,
    TeamMemberRead,
    TeamRead,
    UpstreamsRead,
    UsageRead,
    UserChecklistRead,
    WhyCreditedRead,
)
from partner_portal.upstream import Section, Upstream, Upstreams, section


def _sections(*found: Section[Any]) -> Sections:
    return {s.name: SectionRead(availability=s.availability.value, reason=s.reason) for s in found}


def _renewal_facts(row: Row[Any]) -> RenewalFacts:
    return RenewalFacts(**{field.name: getattr(row, field.name) for field in fields(RenewalFacts)})


def _renewal_read(row: Row[Any]) -> RenewalRead:
    return RenewalRead.model_validate(row, from_attributes=True)


@dataclass(frozen=True, slots=True)
class PartnerClients:
    rows: list[ClientRow]
    renewals: dict[str, list[RenewalFacts]]  # per client, the dates and decisions (D2)


async def _partner_clients(portal: Portal, partner_id: str, day: date) -> PartnerClients:
    """D1: the partner's clients on the day, with what the table shows of each."""
    index = portal.policy.index_on(day)
    scoring = portal.policy.engagement_on(day)
    found = await repository.partner_clients(
        portal.session, partner_id, day, sold_after(day, index)
    )
    renewals: dict[str, list[RenewalFacts]] = {}
    for row in await repository.renewals(
        portal.session, [r.client_id for r in found], people_and_terms=False
    ):
        renewals.setdefault(row.client_id, []).append(_renewal_facts(row))
    rows = []
    for r in found:
        kind = relationship(r.managed, r.sold)
        if kind is None:
            continue
        upcoming = next_renewal(renewals.get(r.client_id, []), day)
        rows.append(
            ClientRow(
                client_id=r.client_id,
                name=r.name,
                domain=r.domain,
                relationship=kind,
                products=tuple(r.products),
                apps=tuple(r.apps),
                engagement=engagement(r.score, len(r.apps), scoring),
                mrr=r.mrr,
                currency=r.currency,
                next_renewal_on=upcoming.renewal_date if upcoming else None,
            )
        )
    return PartnerClients(rows, renewals)


def _engagement_read(found: Engagement) -> EngagementRead:
    return EngagementRead.model_validate(found, from_attributes=True)


async def dashboard(portal: Portal, partner_id: str, day: date) -> DashboardRead:
    """The alerts (D2 renewals, the ledger's expiring credit, capacity) and the summaries (the
    credited tier and points per track, clients per relationship)."""
    alerts = portal.policy.alerts_on(day)
    calls = asyncio.gather(
        section("expiring_credit", portal.expiring(partner_id, day, alerts.expiring_credit_days)),
        section("capacity", portal.capacity(partner_id)),
        section("tier", portal.tier(partner_id)),
    )
    index = portal.policy.index_on(day)
    related = await repository.partner_clients(
        portal.session, partner_id, day, sold_after(day, index), profiles=False
    )
    kinds = [relationship(r.managed, r.sold) for r in related]
    due = [
        r
        for row in await repository.renewals(
            portal.session, [r.client_id for r in related], people_and_terms=False
        )
        if decision_due(r := _renewal_facts(row), day, alerts.renewal_decision_days)
    ]
    expiring, capacity, tier = await calls
    capacity_alert = None
    if capacity.value is not None:
        used, limit = capacity.value.used, capacity.value.limit
        capacity_alert = CapacityAlertRead(
            limit=limit,
            used=used,
            percent=display(used_percent(used, limit)),
            warning_percent=alerts.capacity_warning_percent,
            warning=capacity_warning(used, limit, alerts),
        )
    counts = Counter(kind for kind in kinds if kind is not None)
    return DashboardRead(
        partner_id=partner_id,
        as_of=day,
        alerts=AlertsRead(
            renewal_decisions=RenewalAlertRead(
                within_days=alerts.renewal_decision_days,
                count=len(due),
                clients=sorted({r.client_id for r in due}),
            ),
            expiring_credit=expiring.value,
            capacity=capacity_alert,
        ),
        tier=tier.value,
        clients_by_relationship={kind: counts.get(kind, 0) for kind in Relationship},
        sections=_sections(expiring, capacity, tier),
    )


async def clients_page(
    portal: Portal, partner_id: str, wanted: ClientsQuery, day: date
) -> ClientsPage:
    """The clients table (D1): searched, filtered, ordered, one page; credit and share from
    the ledger, as one section."""
    credit_call = asyncio.create_task(section("credit", portal.managed_credit(partner_id, day)))
    rows = select_rows(
        (await _partner_clients(portal, partner_id, day)).rows,
        query=wanted.q,
        wanted=wanted.relationship,
        sort=wanted.sort,
        order=wanted.order,
    )
    start = (wanted.page - 1) * wanted.page_size
    page = rows[start : start + wanted.page_size]
    credit = await credit_call
    managed: dict[str, ManagedClientAnswer] = (
        {c.client_id: c for c in credit.value.clients} if credit.value else {}
    )
    return ClientsPage(
        partner_id=partner_id,
        as_of=day,
        page=wanted.page,
        page_size=wanted.page_size,
        total=len(rows),
        clients=[_client_row_read(row, managed.get(row.client_id)) for row in page],
        sections=_sections(credit),
    )


def _client_row_read(row: ClientRow, credit: ManagedClientAnswer | None) -> ClientRowRead:
    return ClientRowRead.from_attributes(
        row,
        managed_credit=credit.credit if credit else None,
        managed_currency=credit.currency if credit else None,
        share=f"1/{credit.share_denominator}" if credit else None,
    )


async def client_detail(
    portal: Portal, partner_id: str, client_id: str, day: date
) -> ClientDetailRead:
    """One client of the partner: company, subscription with contact and email tiers, renewals,
    usage, engagement, links and the why-credited checklist (D3). 404 unless the partner ever
    managed or sold the client (D5)."""
    if not await repository.ever_related(portal.session, partner_id, client_id):
        raise NotFound(f"client {client_id} is not a client of partner {partner_id}")
    attribution = asyncio.create_task(
        section("why_credited", portal.attribution(partner_id, client_id, day))
    )
    profile = await repository.client_profile(portal.session, client_id)
    if profile is None:
        attribution.cancel()
        raise NotFound(f"no profile of client {client_id} has arrived yet")
    index = portal.policy.index_on(day)
    related = next(
        iter(
            await repository.partner_clients(
                portal.session, partner_id, day, sold_after(day, index), client_id
            )
        ),
        None,
    )
    found = await repository.renewals(portal.session, [client_id])
    facts = {(r.renewal_date): _renewal_read(r) for r in found}
    renewals = [_renewal_facts(r) for r in found]
    current, upcoming = current_renewal(renewals, day), next_renewal(renewals, day)
    apps = list(profile.apps or [])
    checked = await attribution
    return ClientDetailRead(
        partner_id=partner_id,
        client_id=client_id,
        as_of=day,
        relationship=relationship(related.managed, related.sold) if related else None,
        company=CompanyRead(
            name=profile.name,
            domain=profile.website_domain,
            country=profile.country,
            account_currency=profile.account_currency,
        ),
        subscription=SubscriptionRead.model_validate(profile, from_attributes=True)
        if profile.mrr is not None
        else None,
        renewals=RenewalsOfClientRead(
            current=facts[current.renewal_date] if current else None,
            next=facts[upcoming.renewal_date] if upcoming else None,
        ),
        usage=UsageRead(products=list(profile.products or []), apps=apps),
        engagement=_engagement_read(
            engagement(profile.score, len(apps), portal.policy.engagement_on(day))
        ),
        links=LinksRead(
            crm=portal.settings.crm_url_template.format(client_id=client_id),
            account=portal.settings.account_url_template.format(client_id=client_id),
        ),
        why_credited=_why_credited(checked.value) if checked.value else None,
        sections=_sections(checked),
    )


def _why_credited(answer: AttributionAnswer) -> WhyCreditedRead:
    """D3 from the ledger's judged steps."""
    checklist = why_credited(
        answer.manages,
        answer.ends_on,
        [
            UserSteps(
                user.user_id,
                user.email,
                tuple(Step(**step.model_dump()) for step in user.steps),
            )
            for user in answer.users
        ],
    )
    return WhyCreditedRead.from_attributes(
        answer,
        credited=checklist.credited,
        ends_on=checklist.ends_on,
        users=[
            UserChecklistRead.from_attributes(
                user, first_failing_step=user.first_failing.number if user.first_failing else None
            )
            for user in checklist.users
        ],
    )


async def renewals(portal: Portal, partner_id: str, day: date, within_days: int) -> RenewalsRead:
    """D2: the undecided renewals of the partner's clients whose decision is due within N days."""
    clients = await _partner_clients(portal, partner_id, day)
    due_for = {
        r.client_id
        for facts in clients.renewals.values()
        for r in facts
        if decision_due(r, day, within_days)
    }
    due = [
        _renewal_read(row)
        for row in await repository.renewals(portal.session, due_for)
        if decision_due(_renewal_facts(row), day, within_days)
    ]
    return RenewalsRead(
        partner_id=partner_id,
        as_of=day,
        within_days=within_days,
        renewals=sorted(due, key=lambda r: (r.decision_deadline, r.client_id)),
    )


async def team(portal: Portal, partner_id: str) -> TeamRead:
    """The vendor team of the partner (its partner development manager, ...)."""
    return TeamRead(
        partner_id=partner_id,
        members=[
            TeamMemberRead.from_attributes(member, mailto=f"mailto:{member.email}")
            for member in await repository.team(portal.session, partner_id)
        ],
    )


async def employees(portal: Portal, partner_id: str, day: date) -> EmployeesRead:
    """The partner's users and their clients, as the credit-ledger states them (M4, M5)."""
    answer = await portal.employees_answer(partner_id, day)
    return EmployeesRead(partner_id=partner_id, as_of=day, employees=answer.employees)


async def employee(portal: Portal, partner_id: str, user_id: str, day: date) -> EmployeeRead:
    found = await employees(portal, partner_id, day)
    for person in found.employees:
        if person.user_id == user_id:
            return person
    raise NotFound(f"user {user_id} is not a user of partner {partner_id}")


def _valid_range(wanted: PointChangesQuery) -> None:
    if wanted.start > wanted.end:
        raise ValidationFailed(
            "from: must be on or before to",
            errors=[FieldError("from", "must be on or before to")],
        )


async def point_changes_between(
    portal: Portal, partner_id: str, wanted: PointChangesQuery
) -> PointChangesRead:
    """D6: the tier engine's per-client points of the evaluations of `from`'s and `to`'s months
    (T3: points are evaluated monthly), compared per client."""
    _valid_range(wanted)
    months = (f"{wanted.start:%Y-%m}", f"{wanted.end:%Y-%m}")
    before, after = await asyncio.gather(*(portal.breakdown(partner_id, m) for m in months))
    changes = point_changes(_points(before), _points(after))
    return PointChangesRead(
        partner_id=partner_id,
        start=wanted.start,
        end=wanted.end,
        months=months,
        new_sold=_group(changes.new_sold),
        lost_sold=_group(changes.lost_sold),
        new_managed=_group(changes.new_managed),
        lost_managed=_group(changes.lost_managed),
    )


def _points(answer: BreakdownAnswer) -> dict[str, ClientPoints]:
    return {c.client_id: ClientPoints(c.sold_points, c.managed_points) for c in answer.clients}


def _group(changes: Sequence[ClientChange]) -> ChangeGroupRead:
    return ChangeGroupRead(
        count=len(changes),
        points=sum((c.change for c in changes), Decimal(0)),
        clients=[
            ClientChangeRead(client_id=c.client_id, before=c.before, after=c.after, change=c.change)
            for c in changes
        ],
    )


async def upstreams_ready(upstreams: Upstreams) -> UpstreamsRead:
    """Each owner's readiness, asked concurrently."""
    found = await asyncio.gather(
        *(
            section(owner.value, upstreams.get(owner, "/readyz", None, ReadyAnswer))
            for owner in Upstream
        )
    )
    return UpstreamsRead(upstreams=_sections(*found))
