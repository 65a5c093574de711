"""Applying new facts to the append-only ledger: what the rules say now (domain/coverage.py),
reconciled with what was recorded (domain/timeline.py), appended as new entries (never
updates), each announced on `credit.events.v1`, with the read table rewritten for the clients
that changed. One transaction: the caller's.

Cost follows the change: an activity is merged into its client's interval state, and when it
covers no new day (the usual case for an active client) nothing more is read or written. Any
other fact derives its clients' state again from their facts.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from credit_ledger import repository
from credit_ledger.config import SERVICE_NAME
from credit_ledger.domain.coverage import derive, desired_steps
from credit_ledger.domain.facts import Activity
from credit_ledger.domain.policy import ManagedPolicy
from credit_ledger.domain.timeline import Step, known_steps, reconcile
from credit_ledger.history import load_histories
from credit_ledger.repository import StepRow
from keel.events.catalogue import EVENTS, MANAGED_CREDIT_CHANGED
from keel.events.payloads.credit import ManagedCreditChangedV1
from keel.kafka.publisher import Message
from keel.outbox import enqueue


@dataclass
class Touch:
    """What a batch did to a client: from which day figures may change, and by which events."""

    since: date
    cause: list[str] = field(default_factory=list)

    def add(self, day: date, reference: str) -> None:
        self.since = min(self.since, day)
        self.cause.append(reference)


@dataclass(frozen=True, slots=True)
class NewActivity:
    client_id: str
    activity: Activity
    reference: str


async def refresh(
    session: AsyncSession,
    *,
    derived: Mapping[str, Touch],
    activities: Sequence[NewActivity] = (),
    policy: ManagedPolicy,
    recorded_at: datetime,
) -> list[dict[str, Any]]:
    """Apply facts already recorded in this transaction: `derived` clients are derived again
    from their facts; `activities` (of other clients) go through the interval state. Returns
    the ledger entries appended."""
    connection = await repository.driver(session)
    clients = derived.keys() | {a.client_id for a in activities}
    if not clients:
        return []
    await repository.lock_clients(connection, clients)
    states = await repository.load_states(connection, clients)
    full = dict(derived)
    touched: dict[str, Touch] = {}
    changed: set[str] = set()
    for new in activities:
        state = states.get(new.client_id)
        if state is None or new.client_id in derived:  # no state yet: derive it from the facts
            day = new.activity.day
            full.setdefault(new.client_id, Touch(day)).add(day, new.reference)
            continue
        users = len(state.users)
        if (first := state.add(new.activity, policy)) is not None:
            touched.setdefault(new.client_id, Touch(first)).add(first, new.reference)
        if first is not None or len(state.users) != users:
            changed.add(new.client_id)
    histories = await load_histories(connection, full.keys())
    for client_id, history in histories.items():
        states[client_id] = derive(history, policy)
    histories |= await load_histories(
        connection,
        touched.keys(),
        activities=False,
        activity_users={client_id: states[client_id].users for client_id in touched},
    )
    await repository.save_states(connection, {c: states[c] for c in changed | full.keys()})
    touched |= full
    known = await repository.credit_steps(connection, touched.keys())
    rows = [
        _entry(partner_id, client_id, step, touch.cause, recorded_at)
        for client_id, touch in sorted(touched.items())
        for partner_id, step in reconcile(
            desired_steps(histories[client_id], states[client_id].coverage, policy, touch.since),
            known_steps(known[client_id]),
            touch.since,
        )
    ]
    if rows:
        await repository.append_entries(connection, rows)
        await enqueue(session, [_announcement(row) for row in rows])
        written = {row["client_id"] for row in rows}
        await repository.rewrite_steps(
            connection,
            written,
            _read_rows([s for c in written for s in known[c]], rows),
        )
    return rows


def _entry(
    partner_id: str, client_id: str, step: Step, cause: Sequence[str], recorded_at: datetime
) -> dict[str, Any]:
    return {
        "partner_id": partner_id,
        "client_id": client_id,
        "effective_on": step.day,
        "amount": step.credit.amount,
        "currency": step.credit.currency,
        "denominator": step.credit.denominator,
        "country": step.country,
        "rule": step.rule,
        "cause": list(cause),
        "recorded_at": recorded_at,
    }


def _read_rows(known: Iterable[StepRow], entries: Iterable[Mapping[str, Any]]) -> list[StepRow]:
    """The read table after the new entries: per (partner, client, day) the latest, and for
    a credit the next day its credit is 0 (M6)."""
    latest = {(s.partner_id, s.client_id, s.effective_on): s for s in known}
    for e in entries:
        latest[(e["partner_id"], e["client_id"], e["effective_on"])] = StepRow(
            e["partner_id"],
            e["client_id"],
            e["effective_on"],
            e["amount"],
            e["currency"],
            e["denominator"],
            e["country"],
        )
    rows: list[StepRow] = []
    ends: date | None = None
    owner: tuple[str, str] | None = None
    for key in sorted(latest, reverse=True):  # per partner and client, latest day first
        step = latest[key]
        if owner != key[:2]:
            owner, ends = key[:2], None
        rows.append(step._replace(ends_on=None if step.amount == 0 else ends))
        if step.amount == 0:
            ends = step.effective_on
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
