"""The ledger's fast path: M1-M7 from interval state instead of every activity, day by day.

Per partner user in a client the state keeps
- the periods (moments) in which an activity of the user qualifies: active and assigned (M1, M4);
- the coverage: the union of the days its qualifying activities count (M2, cut where the window
  policy changes), as merged intervals.

A new activity only adds coverage: merging its days returns the first newly covered day, and
when there is none (the usual case for an active client) no figure can change. Facts that can
take coverage away (status, membership, links, removals, ended services, subscriptions) are
answered by deriving the client's state again from its history.

A day's standing then needs, per partner user, the gates of that day (M4, M5, from the same
`judge_partner` as `attribute`) and one coverage lookup; and the days to evaluate are the fact
days and the coverage boundaries, not every activity. `attribute` stays the statement of the
rules: the property tests check this module against it on every client-day.
"""

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from credit_ledger.domain.attribution import (
    Judge,
    catalogued,
    change_days,
    ended_by,
    judge_partner,
)
from credit_ledger.domain.facts import (
    Activity,
    ClientHistory,
    PartnerInClient,
    PartnerUser,
    Timeline,
    UserStatus,
    last_moment,
)
from credit_ledger.domain.policy import ManagedPolicy
from credit_ledger.domain.split import split_equally
from credit_ledger.domain.timeline import Credit, Standing, Step, steps_from

Interval = tuple[date, date]  # the days [start, end)
Period = tuple[datetime, datetime | None]  # the moments [start, end), open when None
Key = tuple[str, str]  # (partner id, user id)


def counted_days(activity_day: date, policy: ManagedPolicy) -> list[Interval]:
    """M2: the days an activity counts, each day judged with the window in force that day: per
    window version, [its first day, its next version's) intersected with [A, A + its days)."""
    versions = policy.window
    pieces: list[Interval] = []
    for index, version in enumerate(versions):
        start = max(activity_day, version.effective_from)
        end = activity_day + timedelta(days=version.days)
        if index + 1 < len(versions):
            end = min(end, versions[index + 1].effective_from)
        if start < end:
            pieces.append((start, end))
    return merge([], pieces)[0]


def merge(
    intervals: Sequence[Interval], pieces: Iterable[Interval]
) -> tuple[list[Interval], date | None]:
    """The union of `intervals` (merged, sorted) and `pieces`, and the first day the pieces
    cover that `intervals` did not (None: nothing new)."""
    first_new: date | None = None
    merged = sorted([*intervals, *pieces])
    for start, end in pieces:
        new = _first_uncovered(intervals, start, end)
        if new is not None and (first_new is None or new < first_new):
            first_new = new
    union: list[Interval] = []
    for start, end in merged:
        if union and start <= union[-1][1]:
            union[-1] = (union[-1][0], max(union[-1][1], end))
        else:
            union.append((start, end))
    return union, first_new


def _first_uncovered(intervals: Sequence[Interval], start: date, end: date) -> date | None:
    day = start
    for low, high in intervals:  # sorted, disjoint
        if high <= day:
            continue
        if low > day:
            return day
        day = high
        if day >= end:
            return None
    return day if day < end else None


def covers(intervals: Sequence[Interval], day: date) -> bool:
    index = bisect_right(intervals, (day, date.max)) - 1
    return index >= 0 and intervals[index][0] <= day < intervals[index][1]


def qualifying_periods(
    history: ClientHistory, partner: PartnerInClient, user: PartnerUser
) -> list[Period]:
    """M1, M4 at the moment of an activity: when the user is active and assigned. The answer
    only changes where one of the facts it reads changes, so it is evaluated there."""
    judge = Judge(history, partner)
    timelines: list[Timeline[Any] | None] = [user.status, partner.employee_domain]
    timelines += [history.members.get(user.user_id), partner.links.get(user.user_id)]
    moments = sorted({c.at for t in timelines if t is not None for c in t.changes})
    periods: list[Period] = []
    for index, moment in enumerate(moments):
        following = moments[index + 1] if index + 1 < len(moments) else None
        if user.status.value_at(moment, None) is UserStatus.ACTIVE and judge.assigned(user, moment):
            if periods and periods[-1][1] == moment:
                periods[-1] = (periods[-1][0], following)
            else:
                periods.append((moment, following))
    return periods


def within(periods: Sequence[Period], moment: datetime) -> bool:
    return any(start <= moment and (end is None or moment < end) for start, end in periods)


@dataclass
class ClientState:
    """A client's interval state: qualifying periods and coverage per (partner, user), and the
    users known from activities (a partner of theirs is explained in the client, M8)."""

    periods: dict[Key, list[Period]] = field(default_factory=dict)
    coverage: dict[Key, list[Interval]] = field(default_factory=dict)
    users: set[str] = field(default_factory=set)

    def add(self, activity: Activity, policy: ManagedPolicy) -> date | None:
        """Record a new activity; the first day it newly covers, if any (M1-M3)."""
        self.users.add(activity.user_id)
        if not catalogued(activity, policy):
            return None
        first: date | None = None
        for key, periods in self.periods.items():
            if key[1] != activity.user_id or not within(periods, activity.occurred_at):
                continue
            known = self.coverage.get(key, [])
            pieces = counted_days(activity.day, policy)
            news = [d for s, e in pieces if (d := _first_uncovered(known, s, e)) is not None]
            if not news:
                continue  # the usual case: every day already covered
            self.coverage[key] = merge(known, pieces)[0]
            first = min(news) if first is None else min(first, *news)
        return first


def derive(history: ClientHistory, policy: ManagedPolicy) -> ClientState:
    """The state from every fact of the client, activities included."""
    state = ClientState()
    for partner_id, partner in history.partners.items():
        for user_id, user in partner.users.items():
            if periods := qualifying_periods(history, partner, user):
                state.periods[(partner_id, user_id)] = periods
    activities = {a.event_id: a for p in history.partners.values() for a in p.activities}
    for activity in activities.values():
        state.add(activity, policy)
    return state


def standing(
    history: ClientHistory,
    coverage: Mapping[Key, Sequence[Interval]],
    day: date,
    policy: ManagedPolicy,
) -> Standing:
    """The figures `attribute` gives for the day, from the coverage (M1-M7)."""
    moment = last_moment(day)
    window = policy.window_on(day)
    covering = {partner_id for partner_id, _ in coverage}
    managing: list[str] = []
    ends: dict[str, str] = {}
    for partner_id, partner in sorted(history.partners.items()):
        if partner_id not in covering:
            continue  # no qualifying activity ever: it never manages, nothing to record

        def counts(user: PartnerUser, partner_id: str = partner_id) -> list[bool]:
            return [True] if covers(coverage.get((partner_id, user.user_id), ()), day) else []

        counted, reasons = judge_partner(history, partner, day, window, counts)
        if counted:
            managing.append(partner_id)
        else:
            ends[partner_id] = ended_by(reasons, day)
    subscription = history.subscription.value_at(moment, None)
    credits: dict[str, Credit] = {}
    if subscription is not None:
        unit = policy.smallest_unit(subscription.currency)
        shares = split_equally(subscription.mrr, managing, unit)
        credits = {
            partner_id: Credit(amount, subscription.currency, len(managing))
            for partner_id, amount in shares.items()
        }
    return Standing(
        day,
        subscription.currency if subscription else None,
        history.country.value_at(moment, None),
        credits,
        ends,
    )


def desired_steps(
    history: ClientHistory,
    coverage: Mapping[Key, Sequence[Interval]],
    policy: ManagedPolicy,
    since: date,
) -> dict[str, list[Step]]:
    """Per partner, the steps from `since` on, evaluated only where something can change: the
    days of the facts and the coverage boundaries (and the window changes). Days before the
    policy's first day credit nothing: evaluation starts there at the earliest."""
    days = set(change_days(history, policy))
    days.update(day for intervals in coverage.values() for pair in intervals for day in pair)

    def on(day: date) -> Standing:  # no day before the first policy credits anything
        if day < policy.first_day:
            return Standing(day, None, None)
        return standing(history, coverage, day, policy)

    return steps_from(on, max(since, policy.first_day), days)
