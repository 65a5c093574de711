"""Readable client histories for rule tests: each line states one fact at an event time."""

from datetime import UTC, date, datetime, time
from decimal import Decimal

from credit_ledger.domain.facts import (
    Activity,
    Change,
    ClientHistory,
    ClientSubscription,
    UserStatus,
)

NOON = time(12)


def at(day: date | str, clock: time = NOON) -> datetime:
    return datetime.combine(date.fromisoformat(day) if isinstance(day, str) else day, clock, UTC)


class Story:
    def __init__(self, client_id: str = "c-1") -> None:
        self.history = ClientHistory(client_id)
        self.count = 0

    def _id(self) -> str:
        self.count += 1
        return f"e-{self.count:04d}"

    def subscription(self, when: datetime, mrr: str, currency: str = "USD") -> "Story":
        self.history.subscription.add(
            Change(when, self._id(), ClientSubscription(Decimal(mrr), currency))
        )
        return self

    def partner(self, partner_id: str, domain: str, when: datetime) -> "Story":
        self.history.partner(partner_id).employee_domain.add(Change(when, self._id(), domain))
        return self

    def user(
        self, partner_id: str, user_id: str, email: str, when: datetime, employee: bool = True
    ) -> "Story":
        user = self.history.partner(partner_id).user(user_id, email, employee)
        user.status.add(Change(when, self._id(), UserStatus.ACTIVE))
        return self

    def status(self, partner_id: str, user_id: str, status: UserStatus, when: datetime) -> "Story":
        self.history.partner(partner_id).users[user_id].status.add(Change(when, self._id(), status))
        return self

    def member(self, user_id: str, when: datetime, added: bool = True) -> "Story":
        self.history.member(user_id).add(Change(when, self._id(), added))
        return self

    def link(self, partner_id: str, user_id: str, when: datetime, linked: bool = True) -> "Story":
        self.history.partner(partner_id).link(user_id).add(Change(when, self._id(), linked))
        return self

    def remove_access(self, partner_id: str, user_id: str, when: datetime) -> "Story":
        self.history.partner(partner_id).access_removal(user_id).add(Change(when, self._id(), True))
        return self

    def end_services(self, partner_id: str, when: datetime) -> "Story":
        self.history.partner(partner_id).services_ended.add(Change(when, self._id(), True))
        return self

    def activity(
        self, partner_id: str, user_id: str, action: str, when: datetime, event_id: str = ""
    ) -> "Story":
        tool = action.split(".")[0]
        self.history.partner(partner_id).add_activity(
            Activity(event_id or self._id(), user_id, tool, action, when)
        )
        return self

    def managed_by(self, partner_id: str, user_id: str, domain: str, since: datetime) -> "Story":
        """A partner with one employee of its own domain who is a member of the client."""
        return (
            self.partner(partner_id, domain, since)
            .user(partner_id, user_id, f"{user_id}@{domain}", since)
            .member(user_id, since)
        )
