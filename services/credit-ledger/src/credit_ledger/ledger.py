"""The append-only managed-credit ledger: what the facts say now, reconciled with what was
recorded, written as new entries (never updates), each announced on `credit.events.v1`."""

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Table, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from credit_ledger.config import SERVICE_NAME
from credit_ledger.domain.attribution import Attribution, attribute, change_days
from credit_ledger.domain.facts import ClientHistory
from credit_ledger.domain.policy import ManagedPolicy
from credit_ledger.history import load_histories
from credit_ledger.tables import LedgerEntry
from keel.events.catalogue import EVENTS, MANAGED_CREDIT_CHANGED
from keel.events.payloads.credit import ManagedCreditChangedV1
from keel.kafka.publisher import Message
from keel.outbox import enqueue

LEDGER: Table = LedgerEntry.__table__  # type: ignore[attr-defined]
V = TypeVar("V")
_RULE = re.compile(r"\bM[1-8]\b")
LOCK_CLIENTS = text(
    "SELECT pg_advisory_xact_lock(hashtext(c)) FROM unnest(CAST(:ids AS text[])) AS c ORDER BY c"
)


@dataclass(frozen=True, slots=True)
class Credit:
    """A partner's managed credit for a client from a day on."""

    amount: Decimal
    currency: str
    denominator: int

    @property
    def zero(self) -> bool:
        return self.amount == 0


@dataclass
class Touch:
    """What a batch did to a client: from which day figures may change, and by which events."""

    since: date
    cause: list[str]

    def add(self, day: date, reference: str) -> None:
        self.since = min(self.since, day)
        self.cause.append(reference)


@dataclass(frozen=True, slots=True)
class Step:
    day: date
    credit: Credit
    rule: str
    country: str | None


def desired_steps(
    history: ClientHistory, policy: ManagedPolicy, since: date
) -> dict[str, list[Step]]:
    """Per partner, from `since` on: its credit on `since` (a baseline step for every partner
    credited then), then each day it changes, with the rule that changes it.

    Facts stated at time t change figures from t's day on, so a batch whose earliest event is
    on `since` leaves every earlier day as it was recorded. Days before the policy's first day
    credit nothing: evaluation starts there at the earliest.
    """
    steps: dict[str, list[Step]] = {}
    since = max(since, policy.first_day)
    eve = since - timedelta(days=1)
    previous = _credits(attribute(history, eve, policy)) if eve >= policy.first_day else {}
    days = [since, *(day for day in change_days(history, policy) if day > since)]
    for day in days:
        attribution = attribute(history, day, policy)
        now = _credits(attribution)
        for partner_id in sorted(now.keys() | previous.keys()):
            before = previous.get(partner_id)
            after = now.get(partner_id) or _nothing(before, attribution)
            changed = not _same(after, before)
            if changed or (day == since and not after.zero):
                rule = _rule(attribution, partner_id, before, after)
                steps.setdefault(partner_id, []).append(Step(day, after, rule, attribution.country))
            previous[partner_id] = after
    return steps


def _credits(attribution: Attribution) -> dict[str, Credit]:
    if attribution.currency is None:
        return {}
    return {
        share.partner_id: Credit(share.credit, attribution.currency, share.denominator)
        for share in attribution.shares
    }


def _nothing(before: Credit | None, attribution: Attribution) -> Credit:
    # XXX is ISO-4217's "no currency": only met when nothing was ever credited, so never written.
    currency = attribution.currency or (before.currency if before else "XXX")
    return Credit(Decimal(0), currency, 0)


def _rule(attribution: Attribution, partner_id: str, before: Credit | None, after: Credit) -> str:
    """The rule behind a change: M1 starts credit, M7 moves a share, and an end names the rule
    that ended it, read from the explanation: a removal dated that day (M5), else the window
    running out (M2)."""
    if not after.zero:
        return "M1" if before is None or before.zero else "M7"
    verdict = next((v for v in attribution.not_managing if v.partner_id == partner_id), None)
    if verdict is None:
        return "M7"  # nothing left to split: the client has no subscription that day
    dated = [r for r in verdict.reasons if f"on {attribution.day}" in r]
    windows = [r for r in verdict.reasons if "window" in r]
    for reason in (*dated, *windows, *verdict.reasons):
        if found := _RULE.findall(reason):
            return str(found[-1])  # "... window (M1, M2)" ends by M2
    return "M1"


def known_steps(entries: Iterable[LedgerEntry]) -> dict[str, dict[date, Credit]]:
    """Per partner, the credit recorded for each effective day (the latest entry, by id, wins)."""
    known: dict[str, dict[date, Credit]] = {}
    for entry in sorted(entries, key=lambda e: e.id or 0):
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


async def refresh_clients(
    session: AsyncSession,
    touched: Mapping[str, Touch],
    *,
    policy: ManagedPolicy,
    recorded_at: datetime,
) -> list[dict[str, Any]]:
    """Recompute each touched client from its facts, from the first day the new facts can
    change; append (and announce) what changed."""
    # One writer per client at a time (a batch and an API action may meet), in a fixed order.
    await session.execute(LOCK_CLIENTS, {"ids": sorted(touched)})
    histories = await load_histories(session, touched.keys())
    recorded: dict[str, list[LedgerEntry]] = {client_id: [] for client_id in touched}
    for entry in await session.scalars(
        select(LedgerEntry).where(col(LedgerEntry.client_id).in_(recorded))
    ):
        recorded[entry.client_id].append(entry)
    rows = [
        {
            "partner_id": partner_id,
            "client_id": client_id,
            "effective_on": step.day,
            "amount": step.credit.amount,
            "currency": step.credit.currency,
            "denominator": step.credit.denominator,
            "country": step.country,
            "rule": step.rule,
            "cause": list(touched[client_id].cause),
            "recorded_at": recorded_at,
        }
        for client_id, touch in sorted(touched.items())
        for partner_id, step in reconcile(
            desired_steps(histories[client_id], policy, touch.since),
            known_steps(recorded[client_id]),
            touch.since,
        )
    ]
    if rows:
        ids = await session.scalars(
            insert(LEDGER).returning(LEDGER.c.id, sort_by_parameter_order=True), rows
        )
        for row, entry_id in zip(rows, ids, strict=True):
            row["id"] = entry_id
        await enqueue(session, [_announcement(row) for row in rows])
    return rows


def _announcement(entry: Mapping[str, Any]) -> Message:
    payload = ManagedCreditChangedV1(
        partner_id=entry["partner_id"],
        client_id=entry["client_id"],
        effective_on=entry["effective_on"],
        amount=entry["amount"],
        currency=entry["currency"],
        denominator=entry["denominator"],
        client_country=entry["country"],
        rule=entry["rule"],
        cause=entry["cause"],
        recorded_at=entry["recorded_at"],
    )
    return EVENTS.message(
        MANAGED_CREDIT_CHANGED,
        payload,
        id=f"ledger-entry-{entry['id']}",
        source=SERVICE_NAME,
        time=datetime.combine(entry["effective_on"], time(), tzinfo=UTC),
        subject=entry["client_id"],
    )
