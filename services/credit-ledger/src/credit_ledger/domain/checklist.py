"""A partner's own users in one client, step by step: the facts behind the portal's employees
tab and its why-credited checklist (D3). Pure; it judges with the attribution's own Judge, so
the M-rules are stated once.

The four steps, in the program's order: (1) a partner user, not removed; (2) assigned to the
client, automatically by the employee email domain or by a manual link (M4); (3) a member of the
client's account whose access was not removed and whose services were not ended (M5); (4) a
qualifying activity after the assignment whose window covers the day (M1-M3).
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from credit_ledger.domain.attribution import CountingActivity, Judge, counting_activities
from credit_ledger.domain.facts import (
    ClientHistory,
    PartnerInClient,
    PartnerUser,
    UserStatus,
    last_moment,
)
from credit_ledger.domain.policy import ManagedPolicy


class Assignment(StrEnum):
    AUTOMATIC = "automatic"  # M4: employee of the partner's email domain, member of the client
    MANUAL = "manual"  # M4: linked by hand


@dataclass(frozen=True, slots=True)
class Step:
    number: int
    name: str
    rule: str
    passed: bool
    evidence: str


@dataclass(frozen=True, slots=True)
class UserInClient:
    """Where one of the partner's users stands in the client on the day (named as the API
    names it: the service reads it into UserInClientRead attribute by attribute)."""

    user_id: str
    email: str
    partner_employee: bool
    status: UserStatus | None
    assignment: Assignment | None
    member: bool
    access_removed_on: date | None
    services_ended_on: date | None
    last_qualifying_activity_at: datetime | None  # the last one on or before the day
    activities: tuple[CountingActivity, ...]  # what counts on the day (M1, M2)
    steps: tuple[Step, ...]

    @property
    def qualifies(self) -> bool:
        return all(step.passed for step in self.steps)


def users_in_client(
    history: ClientHistory, partner_id: str, day: date, policy: ManagedPolicy
) -> tuple[UserInClient, ...]:
    """Every user of the partner known in the client, by user id."""
    partner = history.partners.get(partner_id)
    if partner is None:
        return ()
    judge = Judge(history, partner)
    return tuple(
        _user_in_client(judge, partner, user, day, policy)
        for user in sorted(partner.users.values(), key=lambda u: u.user_id)
        if user.status.at(last_moment(day)) is not None
    )


def _user_in_client(
    judge: Judge, partner: PartnerInClient, user: PartnerUser, day: date, policy: ManagedPolicy
) -> UserInClient:
    moment = last_moment(day)
    status = user.status.value_at(moment, None)
    link = partner.links.get(user.user_id)
    assignment = (
        Assignment.MANUAL
        if link is not None and link.value_at(moment, False)
        else Assignment.AUTOMATIC
        if judge.assigned(user, moment)
        else None
    )
    member = judge.member(user.user_id, moment)
    removed_on = judge.access_removed_on(user.user_id, moment)
    ended = partner.services_ended.at(moment)
    ended_on = ended.at.date() if ended is not None and ended.value else None
    qualifying = [
        a
        for a in partner.activities
        if a.user_id == user.user_id
        and a.occurred_at <= moment
        and judge.qualifies(user, a, policy)
    ]
    found = tuple(counting_activities(judge, user, day, policy))
    steps = (
        _partner_user_step(user, status, moment),
        _assignment_step(partner, user, assignment, moment),
        _membership_step(member, removed_on, ended_on),
        _activity_step(judge, user, found, day, policy),
    )
    return UserInClient(
        user_id=user.user_id,
        email=user.email,
        partner_employee=user.partner_employee,
        status=status,
        assignment=assignment,
        member=member,
        access_removed_on=removed_on,
        services_ended_on=ended_on,
        last_qualifying_activity_at=qualifying[-1].occurred_at if qualifying else None,
        activities=found,
        steps=steps,
    )


def _partner_user_step(user: PartnerUser, status: UserStatus | None, moment: datetime) -> Step:
    change = user.status.at(moment)
    since = f" since {change.at.date()}" if change is not None else ""
    return Step(
        1,
        "partner user",
        "M1",
        status is not None and status is not UserStatus.REMOVED,
        f"{user.email or user.user_id} is {status.value if status else 'unknown'}{since}",
    )


def _assignment_step(
    partner: PartnerInClient, user: PartnerUser, assignment: Assignment | None, moment: datetime
) -> Step:
    domain = partner.employee_domain.value_at(moment, "")
    if assignment is Assignment.MANUAL:
        evidence = "linked to the client by hand"
    elif assignment is Assignment.AUTOMATIC:
        evidence = f"assigned automatically: a partner employee of {domain}, member of the client"
    elif not user.partner_employee or user.email_domain != domain:
        evidence = (
            f"not assigned: {user.email_domain} is not the partner's employee email domain "
            f"({domain or 'unknown'}) and there is no manual link"
        )
    else:
        evidence = "not assigned: not a member of the client account, and no manual link"
    return Step(2, "assigned to the client", "M4", assignment is not None, evidence)


def _membership_step(member: bool, removed_on: date | None, ended_on: date | None) -> Step:
    if ended_on is not None:
        evidence = f"the partner ended its services for the client on {ended_on}"
    elif removed_on is not None:
        evidence = f"client access removed on {removed_on}; only the client can restore it"
    elif not member:
        evidence = "not a member of the client's account"
    else:
        evidence = "a member of the client's account, access not removed"
    passed = member and removed_on is None and ended_on is None
    return Step(3, "member with access", "M5", passed, evidence)


def _activity_step(
    judge: Judge,
    user: PartnerUser,
    found: tuple[CountingActivity, ...],
    day: date,
    policy: ManagedPolicy,
) -> Step:
    window = policy.window_on(day)
    if found:
        last = found[-1]
        evidence = (
            f"{len(found)} qualifying activities in the {window.days}-day window; the last, "
            f"{last.action} on {last.occurred_at.date()}, counts until {last.expires_on}"
        )
        return Step(4, "qualifying activity in the window", "M2", True, evidence)
    moment = last_moment(day)
    recent = [
        a
        for a in judge.partner.activities
        if a.user_id == user.user_id
        and a.occurred_at <= moment
        and day < a.day + timedelta(days=window.days)
    ]
    evidence = f"no qualifying activity in the {window.days}-day window"
    rule = "M2"
    if recent:
        why = judge.disqualified(user, recent[-1], policy)
        if why is not None:
            rule, reason = why
            evidence += f"; the last activity, {recent[-1].action}, does not count: {reason}"
    return Step(4, "qualifying activity in the window", rule, False, evidence)
