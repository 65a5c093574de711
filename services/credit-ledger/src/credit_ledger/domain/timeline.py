"""A partner's managed credit for a client as a timeline of steps: what the rules say from a day
on (desired), what the ledger recorded (known), and the entries that make the record say what
the rules say (reconcile). Pure: no database, no clock."""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Protocol, TypeVar

V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class Credit:
    """A partner's managed credit for a client from a day on."""

    amount: Decimal
    currency: str
    denominator: int

    @property
    def zero(self) -> bool:
        return self.amount == 0


@dataclass(frozen=True, slots=True)
class Step:
    day: date
    credit: Credit
    rule: str
    country: str | None


@dataclass(frozen=True, slots=True)
class Standing:
    """What the rules say about one client on one day: each managing partner's credit (none
    without a subscription), and for each partner that does not manage it the rule keeping it
    out."""

    day: date
    currency: str | None
    country: str | None
    credits: dict[str, Credit] = field(default_factory=dict)
    ended_by: dict[str, str] = field(default_factory=dict)


class Recorded(Protocol):
    """A recorded entry: a ledger entry, or the read table's row for its effective day."""

    @property
    def partner_id(self) -> str: ...
    @property
    def effective_on(self) -> date: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def currency(self) -> str: ...
    @property
    def denominator(self) -> int: ...


def steps_from(
    standing: Callable[[date], Standing], since: date, days: Iterable[date]
) -> dict[str, list[Step]]:
    """Per partner, from `since` on: its credit on `since` (a baseline step for every partner
    credited then), then each day it changes, with the rule that changes it. `days` must hold
    every day after `since` on which a standing can differ from the day before.

    Facts stated at time t change figures from t's day on, so a batch whose earliest event is
    on `since` leaves every earlier day as it was recorded.
    """
    steps: dict[str, list[Step]] = {}
    previous = dict(standing(since - timedelta(days=1)).credits)
    for day in [since, *sorted(d for d in set(days) if d > since)]:
        now = standing(day)
        for partner_id in sorted(now.credits.keys() | previous.keys()):
            before = previous.get(partner_id)
            after = now.credits.get(partner_id) or _nothing(before, now)
            if not _same(after, before) or (day == since and not after.zero):
                rule = _rule(now, partner_id, before, after)
                steps.setdefault(partner_id, []).append(Step(day, after, rule, now.country))
            previous[partner_id] = after
    return steps


NO_CURRENCY = "XXX"  # ISO 4217's code for "no currency"


def _nothing(before: Credit | None, now: Standing) -> Credit:
    """Zero credit, in the currency last known. Only a client that was never credited has none,
    and its zero is never written (nothing changed), so NO_CURRENCY never reaches the ledger."""
    currency = now.currency or (before.currency if before else NO_CURRENCY)
    return Credit(Decimal(0), currency, 0)


def _rule(now: Standing, partner_id: str, before: Credit | None, after: Credit) -> str:
    """M1 starts credit, M7 moves a share; an end names the rule the verdict says ended it, and
    M7 when the partner still manages but there is nothing to split (no subscription)."""
    if not after.zero:
        return "M1" if before is None or before.zero else "M7"
    return now.ended_by.get(partner_id, "M7")


def known_steps(entries: Iterable[Recorded]) -> dict[str, dict[date, Credit]]:
    """Per partner, the credit recorded for each effective day (entries in recording order: the
    latest for a day wins)."""
    known: dict[str, dict[date, Credit]] = {}
    for entry in entries:
        credit = Credit(entry.amount, entry.currency, entry.denominator)
        known.setdefault(entry.partner_id, {})[entry.effective_on] = credit
    return known


def value_on(steps: Mapping[date, V], day: date) -> V | None:
    """The value of the last step on or before `day`."""
    earlier = [d for d in steps if d <= day]
    return steps[max(earlier)] if earlier else None


def reconcile(
    desired: Mapping[str, Sequence[Step]], known: Mapping[str, Mapping[date, Credit]], since: date
) -> list[tuple[str, Step]]:
    """The entries that make the recorded timeline say, from `since` on, what the facts say.

    A day only the record knows (a change the facts no longer make) gets an entry too, carrying
    what the facts say for it: that is how a late event corrects a past day.
    """
    changes: list[tuple[str, Step]] = []
    for partner_id in sorted(desired.keys() | known.keys()):
        wanted = {step.day: step for step in desired.get(partner_id, ())}
        recorded = dict(known.get(partner_id, {}))
        for day in sorted({since} | {d for d in wanted.keys() | recorded.keys() if d >= since}):
            basis = value_on(wanted, day)
            current = value_on(recorded, day)
            target = basis.credit if basis else None
            if _same(target, current):
                continue
            if target is None:
                assert current is not None  # _same holds when both are None
                target = Credit(Decimal(0), current.currency, 0)
            step = Step(
                day, target, basis.rule if basis else "M1", basis.country if basis else None
            )
            changes.append((partner_id, step))
            recorded[day] = target
    return changes


def _same(a: Credit | None, b: Credit | None) -> bool:
    """Equal credits; every "no credit" is the same, whatever currency it was in."""
    if a is None or a.zero or b is None or b.zero:
        return (a is None or a.zero) and (b is None or b.zero)
    return a == b
