"""M1-M7: who manages a client on a day, why (or why not), and for how much.

Pure: the client's history and the policy in, an explained attribution out. Nothing here reads
the clock; `day` is always given.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from credit_ledger.domain.facts import (
    Activity,
    ClientHistory,
    PartnerInClient,
    PartnerUser,
    UserStatus,
    last_moment,
)
from credit_ledger.domain.policy import ManagedPolicy, WindowVersion
from credit_ledger.domain.split import split_equally

C = TypeVar("C")


@dataclass(frozen=True, slots=True)
class CountingActivity:
    event_id: str
    user_id: str
    action: str
    occurred_at: datetime
    expires_on: date  # the first day it no longer counts (M2)


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a user (or the whole partner) does not count on a day, and under which rule."""

    text: str
    rule: str | None  # None: nothing about the partner is known in the client
    on: date | None = None  # the day of the fact behind it, when it names one
    window: bool = False  # nothing left in the window (M2)


def ended_by(reasons: Sequence[Reason], day: date) -> str:
    """The rule that keeps a partner out on `day`: a fact dated that day (a removal, M5), else
    the window running out (M2), else the first reason's rule; M1 when nothing is known."""
    dated = [r for r in reasons if r.on == day]
    windows = [r for r in reasons if r.window]
    return next((r.rule for r in (*dated, *windows, *reasons) if r.rule), "M1")


@dataclass(frozen=True, slots=True)
class PartnerVerdict:
    partner_id: str
    counting: tuple[CountingActivity, ...]  # empty: the partner does not manage the client
    reasons: tuple[str, ...]  # why each of its users does not qualify (or the partner as a whole)
    ended_by: str | None = None  # when it does not manage: the rule id that keeps it out

    @property
    def manages(self) -> bool:
        return bool(self.counting)

    @property
    def qualifying_users(self) -> tuple[str, ...]:
        return tuple(sorted({activity.user_id for activity in self.counting}))

    @property
    def ends_on(self) -> date | None:
        """The day managed credit ends unless a new qualifying activity happens (M6)."""
        return max((a.expires_on for a in self.counting), default=None)


@dataclass(frozen=True, slots=True)
class Share:
    partner_id: str
    credit: Decimal
    denominator: int
    verdict: PartnerVerdict


@dataclass(frozen=True, slots=True)
class Attribution:
    client_id: str
    day: date
    mrr: Decimal | None
    currency: str | None
    country: str | None
    window: WindowVersion  # the version in force on the day (M2)
    actions_version: str
    shares: tuple[Share, ...]
    not_managing: tuple[PartnerVerdict, ...]

    def credits(self) -> dict[str, Decimal]:
        return {share.partner_id: share.credit for share in self.shares}


def expires_on(activity_day: date, from_day: date, policy: ManagedPolicy) -> date:
    """M2: the first day on or after `from_day` on which the activity no longer counts, each day
    judged with the window in force on that day."""
    candidates = sorted(
        {activity_day + timedelta(days=days) for days in policy.window_lengths()}
        | {day for day in policy.window_changes() if day > from_day}
    )
    for day in candidates:
        if day >= from_day and day >= activity_day + timedelta(days=policy.window_on(day).days):
            return day
    raise AssertionError("every activity expires under the last window version")


def catalogued(activity: Activity, policy: ManagedPolicy) -> bool:
    """M3: the action is in the catalogue on its day; nothing was catalogued before the
    program's first policy, so no earlier action counts."""
    return activity.day >= policy.first_day and policy.actions_on(activity.day).qualifies(
        activity.tool, activity.action
    )


class Judge:
    """Reads one partner's facts in one client at given moments."""

    def __init__(self, history: ClientHistory, partner: PartnerInClient) -> None:
        self.history = history
        self.partner = partner

    def member(self, user_id: str, moment: datetime) -> bool:
        membership = self.history.members.get(user_id)
        return membership is not None and membership.value_at(moment, False)

    def assigned(self, user: PartnerUser, moment: datetime) -> bool:
        """M4: a manual link, or automatically a partner employee of the partner's own email
        domain who is a member of the client."""
        link = self.partner.links.get(user.user_id)
        if link is not None and link.value_at(moment, False):
            return True
        domain = self.partner.employee_domain.value_at(moment, "")
        return (
            user.partner_employee
            and domain != ""
            and user.email_domain == domain
            and self.member(user.user_id, moment)
        )

    def access_removed_on(self, user_id: str, moment: datetime) -> date | None:
        """M5: the day access was removed, unless the client has since added the user again."""
        removals = self.partner.access_removed.get(user_id)
        removal = removals.last(True, moment) if removals else None
        if removal is None:
            return None
        membership = self.history.members.get(user_id)
        readded = membership.last(True, moment) if membership is not None else None
        if readded is not None and readded > removal:
            return None
        return removal.at.date()

    def qualifies(self, user: PartnerUser, activity: Activity, policy: ManagedPolicy) -> bool:
        """M3 and M1: a catalogued action, by a user active at that moment, already assigned.
        Nothing was catalogued before the program's first policy, so no earlier action counts."""
        return (
            catalogued(activity, policy)
            and user.status.value_at(activity.occurred_at, None) is UserStatus.ACTIVE
            and self.assigned(user, activity.occurred_at)
        )


def judge_partner(
    history: ClientHistory,
    partner: PartnerInClient,
    day: date,
    window: WindowVersion,
    counts: Callable[[PartnerUser], Sequence[C]],
) -> tuple[list[C], list[Reason]]:
    """M1, M4, M5 for each user of the partner on `day`: what `counts` finds for the users who
    pass every gate, and why each other user (or the partner as a whole) does not count."""
    judge = Judge(history, partner)
    moment = last_moment(day)
    ended = partner.services_ended.at(moment)
    if ended is not None and ended.value:
        on = ended.at.date()
        return [], [Reason(f"services ended on {on} (M5)", "M5", on)]
    counting: list[C] = []
    reasons: list[Reason] = []
    for user in sorted(partner.users.values(), key=lambda u: u.user_id):
        status = user.status.at(moment)
        if status is None:
            continue
        who = f"user {user.user_id}"
        if status.value is UserStatus.REMOVED:
            on = status.at.date()
            reasons.append(Reason(f"{who} removed from the partner account on {on} (M5)", "M5", on))
            continue
        if not judge.member(user.user_id, moment):
            reasons.append(Reason(f"{who} is not a member of the client account (M5)", "M5"))
            continue
        if (removed := judge.access_removed_on(user.user_id, moment)) is not None:
            reasons.append(Reason(f"{who}: client access removed on {removed} (M5)", "M5", removed))
            continue
        if not judge.assigned(user, moment):
            reasons.append(Reason(f"{who} is not assigned to the client (M4)", "M4"))
            continue
        found = counts(user)
        if not found:
            text = f"{who} has no qualifying activity in the {window.days}-day window (M1, M2)"
            reasons.append(Reason(text, "M2", window=True))
        counting.extend(found)
    if not counting and not reasons:
        reasons.append(Reason("no user of the partner is known in this client", None))
    return counting, reasons


def verdict(
    history: ClientHistory, partner: PartnerInClient, day: date, policy: ManagedPolicy
) -> PartnerVerdict:
    judge = Judge(history, partner)
    moment = last_moment(day)
    window = policy.window_on(day)

    def counting_activities(user: PartnerUser) -> list[CountingActivity]:
        return [
            CountingActivity(
                activity.event_id,
                user.user_id,
                activity.action,
                activity.occurred_at,
                expires_on(activity.day, day, policy),
            )
            for activity in partner.activities
            if activity.user_id == user.user_id
            and activity.occurred_at <= moment
            and day < activity.day + timedelta(days=window.days)
            and judge.qualifies(user, activity, policy)
        ]

    counting, reasons = judge_partner(history, partner, day, window, counting_activities)
    return PartnerVerdict(
        partner.partner_id,
        tuple(counting),
        tuple(r.text for r in reasons),
        None if counting else ended_by(reasons, day),
    )


def attribute(history: ClientHistory, day: date, policy: ManagedPolicy) -> Attribution:
    """M1-M7 for one client on one day, with the explanation of every figure (M8)."""
    moment = last_moment(day)
    verdicts = [verdict(history, p, day, policy) for _, p in sorted(history.partners.items())]
    managing = [v for v in verdicts if v.manages]
    subscription = history.subscription.value_at(moment, None)
    credits: dict[str, Decimal] = {}
    if subscription is not None:
        unit = policy.smallest_unit(subscription.currency)
        credits = split_equally(subscription.mrr, [v.partner_id for v in managing], unit)
    window = policy.window_on(day)
    return Attribution(
        client_id=history.client_id,
        day=day,
        mrr=subscription.mrr if subscription else None,
        currency=subscription.currency if subscription else None,
        country=history.country.value_at(moment, None),
        window=window,
        actions_version=policy.actions_on(day).version,
        shares=tuple(
            Share(v.partner_id, credits.get(v.partner_id, Decimal(0)), len(managing), v)
            for v in managing
        ),
        not_managing=tuple(v for v in verdicts if not v.manages),
    )


def change_days(history: ClientHistory, policy: ManagedPolicy) -> list[date]:
    """Every day on which an attribution of this client can differ from the day before."""
    days: set[date] = set(policy.window_changes())
    timelines: list[Iterable[object]] = [history.subscription.changes, history.country.changes]
    timelines += [t.changes for t in history.members.values()]
    for partner in history.partners.values():
        timelines += [partner.employee_domain.changes, partner.services_ended.changes]
        timelines += [t.changes for t in partner.links.values()]
        timelines += [t.changes for t in partner.access_removed.values()]
        timelines += [u.status.changes for u in partner.users.values()]
        for activity in partner.activities:
            days.add(activity.day)
            days.update(activity.day + timedelta(days=n) for n in policy.window_lengths())
    for changes in timelines:
        days.update(change.at.astimezone(UTC).date() for change in changes)  # type: ignore[attr-defined]
    return sorted(days)
