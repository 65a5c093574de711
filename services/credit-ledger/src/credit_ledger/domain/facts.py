"""Facts with event time, as the M-rules read them. Each fact keeps the event that stated it.

A history holds every fact relevant to one client: its subscription and country, its members,
and for each partner whose users touch it: the partner's employee domain, its users' status,
manual links, access removals, ended services and the users' activities in the client. Facts are
kept sorted by (event time, event id), so the same set of events gives the same history whatever
the order they arrived in (event time decides, not arrival).
"""

from bisect import bisect_right, insort
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, Generic, TypeVar

T = TypeVar("T")
D = TypeVar("D")


class UserStatus(StrEnum):
    ACTIVE = "active"
    DEACTIVATED = "deactivated"
    REMOVED = "removed"


@dataclass(frozen=True, order=True, slots=True)
class Change(Generic[T]):
    """A value that holds from `at` on (until the next change), stated by the event `stated_by`
    (its `source/id`)."""

    at: datetime
    stated_by: str
    value: T = field(compare=False)


@dataclass(slots=True)
class Timeline(Generic[T]):
    changes: list[Change[T]] = field(default_factory=list)

    def add(self, change: Change[T]) -> None:
        if change not in self.changes:
            insort(self.changes, change)

    def at(self, moment: datetime) -> Change[T] | None:
        """The change in force at `moment` (the last one at or before it), if any."""
        index = bisect_right(self.changes, moment, key=_at)
        return self.changes[index - 1] if index else None

    def last(self, value: T, moment: datetime) -> Change[T] | None:
        """The last change to `value` at or before `moment`."""
        for change in reversed(self.changes[: bisect_right(self.changes, moment, key=_at)]):
            if change.value == value:
                return change
        return None

    def value_at(self, moment: datetime, default: D) -> T | D:
        change = self.at(moment)
        return default if change is None else change.value


def _at(change: Change[Any]) -> datetime:
    return change.at


def last_moment(day: date) -> datetime:
    """State "on a day" is the state at its last moment: a change at any time of D counts on D."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC) - timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Activity:
    event_id: str
    user_id: str
    tool: str
    action: str
    occurred_at: datetime

    @property
    def day(self) -> date:
        return self.occurred_at.astimezone(UTC).date()


@dataclass(frozen=True, slots=True)
class ClientSubscription:
    mrr: Decimal
    currency: str


@dataclass(slots=True)
class PartnerUser:
    user_id: str
    email: str
    partner_employee: bool
    status: Timeline[UserStatus] = field(default_factory=Timeline)

    @property
    def email_domain(self) -> str:
        return self.email.rsplit("@", 1)[-1].lower()


@dataclass(slots=True)
class PartnerInClient:
    """What one partner has to do with one client."""

    partner_id: str
    employee_domain: Timeline[str] = field(default_factory=Timeline)
    users: dict[str, PartnerUser] = field(default_factory=dict)
    # Per user: True when a manual link (assign) holds, False once unlinked (M4).
    links: dict[str, Timeline[bool]] = field(default_factory=dict)
    # Per user: moments the client access was removed (confirmed with REMOVE, M5).
    access_removed: dict[str, Timeline[bool]] = field(default_factory=dict)
    # True from "end services" until the partner links a user to the client again (M5).
    services_ended: Timeline[bool] = field(default_factory=Timeline)
    activities: list[Activity] = field(default_factory=list)

    def user(self, user_id: str, email: str = "", partner_employee: bool = False) -> PartnerUser:
        """The user, first known with this email and employee flag."""
        return self.users.setdefault(user_id, PartnerUser(user_id, email, partner_employee))

    def link(self, user_id: str) -> Timeline[bool]:
        return self.links.setdefault(user_id, Timeline())

    def access_removal(self, user_id: str) -> Timeline[bool]:
        return self.access_removed.setdefault(user_id, Timeline())

    def add_activity(self, activity: Activity) -> None:
        if activity not in self.activities:
            insort(self.activities, activity, key=lambda a: (a.occurred_at, a.event_id))


@dataclass(slots=True)
class ClientHistory:
    client_id: str
    subscription: Timeline[ClientSubscription] = field(default_factory=Timeline)
    country: Timeline[str] = field(default_factory=Timeline)
    # Per user: True while the user is a member of the client account.
    members: dict[str, Timeline[bool]] = field(default_factory=dict)
    partners: dict[str, PartnerInClient] = field(default_factory=dict)

    def partner(self, partner_id: str) -> PartnerInClient:
        # Built only when missing (not as setdefault's argument): a read of 1,000 clients asks
        # for known partners tens of thousands of times.
        found = self.partners.get(partner_id)
        if found is None:
            found = self.partners[partner_id] = PartnerInClient(partner_id)
        return found

    def member(self, user_id: str) -> Timeline[bool]:
        return self.members.setdefault(user_id, Timeline())
