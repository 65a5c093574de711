"""M1-M7: who manages a client on a day, why (or why not), and for how much.

Pure: the client's history and the policy in, an explained attribution out. Nothing here reads
the clock; `day` is always given.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

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


@dataclass(frozen=True, slots=True)
class CountingActivity:
    event_id: str
    user_id: str
    action: str
    occurred_at: datetime
    expires_on: date  # the first day it no longer counts (M2)


@dataclass(frozen=True, slots=True)
class PartnerVerdict:
    partner_id: str
    counting: tuple[CountingActivity, ...]  # empty: the partner does not manage the client
    reasons: tuple[str, ...]  # why each of its users does not qualify (or the partner as a whole)

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

    def disqualified(
        self, user: PartnerUser, activity: Activity, policy: ManagedPolicy
    ) -> tuple[str, str] | None:
        """M3 and M1: why the activity does not qualify as (rule, reason), None when it does: a
        catalogued action, by a user active at that moment, already assigned. Nothing was
        catalogued before the program's first policy, so no earlier action counts."""
        if activity.day < policy.first_day:
            return "M3", "it happened before the program's first policy"
        if not policy.actions_on(activity.day).qualifies(activity.tool, activity.action):
            return "M3", f"{activity.action} is not a qualifying action"
        if user.status.value_at(activity.occurred_at, None) is not UserStatus.ACTIVE:
            return "M3", "the user was not active at that moment"
        if not self.assigned(user, activity.occurred_at):
            return "M1", "it happened before the user was assigned to the client"
        return None

    def qualifies(self, user: PartnerUser, activity: Activity, policy: ManagedPolicy) -> bool:
        return self.disqualified(user, activity, policy) is None


def counting_activities(
    judge: Judge, user: PartnerUser, day: date, policy: ManagedPolicy
) -> list[CountingActivity]:
    """M1-M3: the user's activities that count on the day: qualifying, after the assignment,
    inside the window in force on the day."""
    moment = last_moment(day)
    window = policy.window_on(day)
    return [
        CountingActivity(
            activity.event_id,
            user.user_id,
            activity.action,
            activity.occurred_at,
            expires_on(activity.day, day, policy),
        )
        for activity in judge.partner.activities
        if activity.user_id == user.user_id
        and activity.occurred_at <= moment
        and day < activity.day + timedelta(days=window.days)
        and judge.qualifies(user, activity, policy)
    ]


def verdict(
    history: ClientHistory, partner: PartnerInClient, day: date, policy: ManagedPolicy
) -> PartnerVerdict:
    judge = Judge(history, partner)
    moment = last_moment(day)
    window = policy.window_on(day)
    ended = partner.services_ended.at(moment)
    if ended is not None and ended.value:
        return PartnerVerdict(
            partner.partner_id, (), (f"services ended on {ended.at.date()} (M5)",)
        )
    counting: list[CountingActivity] = []
    reasons: list[str] = []
    for user in sorted(partner.users.values(), key=lambda u: u.user_id):
        status = user.status.at(moment)
        if status is None:
            continue
        who = f"user {user.user_id}"
        if status.value is UserStatus.REMOVED:
            reasons.append(f"{who} removed from the partner account on {status.at.date()} (M5)")
            continue
        if not judge.member(user.user_id, moment):
            reasons.append(f"{who} is not a member of the client account (M5)")
            continue
        if (removed := judge.access_removed_on(user.user_id, moment)) is not None:
            reasons.append(f"{who}: client access removed on {removed} (M5)")
            continue
        if not judge.assigned(user, moment):
            reasons.append(f"{who} is not assigned to the client (M4)")
            continue
        found = counting_activities(judge, user, day, policy)
        if not found:
            reasons.append(
                f"{who} has no qualifying activity in the {window.days}-day window (M1, M2)"
            )
        counting.extend(found)
    if not counting and not reasons:
        reasons.append("no user of the partner is known in this client")
    return PartnerVerdict(partner.partner_id, tuple(counting), tuple(reasons))


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
