"""The ledger worker over real PostgreSQL and Kafka: facts in, append-only entries and
`managed_credit.changed` events out, corrections for late events, duplicates applied once."""

import json
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import ledger_support as upstream
from ledger_story import at
from ledger_support import ledger_entries
from prometheus_client import REGISTRY
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from credit_ledger.tables import LedgerEntry
from credit_ledger.worker import build_worker
from keel.clock import FixedClock
from keel.events import topics
from keel.kafka.publisher import Message
from keel.runtime import Runtime
from keel.settings import Settings
from keel.tables import AppliedEvent
from keel.testing.running import eventually, publish, read_topic, running

ANA = "ana@alpha.example"
BO = "bo@beta.example"


def world(day: str = "2024-01-01") -> list[Message]:
    """Two partners, each with one employee who is a member of client c-1 paying 1,000 USD."""
    when = at(day)
    return [
        upstream.partner("p-1", "alpha.example", when),
        upstream.partner("p-2", "beta.example", when),
        upstream.employee("p-1", "u-1", ANA, when),
        upstream.employee("p-2", "u-2", BO, when),
        upstream.client("c-1", when),
        upstream.subscription("c-1", "1000.00", when),
        upstream.member("c-1", "u-1", when),
        upstream.member("c-1", "u-2", when),
    ]


async def until(engine: AsyncEngine, check: Callable[[list[Any]], bool]) -> list[Any]:
    async def probe() -> list[Any] | None:
        entries = await ledger_entries(engine)
        return entries if check(entries) else None

    return await eventually(probe)


def timeline(entries: list[LedgerEntry], partner_id: str) -> list[tuple[date, Decimal, str]]:
    """What the ledger says now for a partner: each change day, amount and rule (corrections
    applied: for a day recorded twice, the later entry)."""
    latest: dict[date, LedgerEntry] = {}
    for entry in sorted(entries, key=lambda e: (e.recorded_at, e.id or 0)):
        if entry.partner_id == partner_id:
            latest[entry.effective_on] = entry
    said: list[tuple[date, Decimal, str]] = []
    for day in sorted(latest):
        entry = latest[day]
        if not said or said[-1][1] != entry.amount:
            said.append((day, entry.amount, entry.rule))
    return said


async def test_m7_activities_become_ledger_entries_split_between_two_partners(
    ledger_settings: Settings, ledger_db: AsyncEngine, ledger_clock: FixedClock
) -> None:
    await publish(
        ledger_settings.kafka,
        [
            *world(),
            upstream.activity("c-1", "u-1", ANA, "blog.post_published", at("2024-01-02")),
            upstream.activity("c-1", "u-2", BO, "email.sent", at("2024-01-05")),
        ],
    )
    async with running(build_worker(Runtime.create(ledger_settings, ledger_clock))):
        entries = await until(ledger_db, lambda e: len(timeline(e, "p-2")) == 3)

    assert timeline(entries, "p-1") == [
        (date(2024, 1, 2), Decimal("1000.00"), "M1"),  # starts with its activity
        (date(2024, 1, 5), Decimal("500.00"), "M7"),  # shared equally with p-2
        (date(2024, 3, 2), Decimal("0"), "M2"),  # 60 days after 01-02 the window ran out
    ]
    assert timeline(entries, "p-2") == [
        (date(2024, 1, 5), Decimal("500.00"), "M1"),
        (date(2024, 3, 2), Decimal("1000.00"), "M7"),
        (date(2024, 3, 5), Decimal("0"), "M2"),
    ]
    assert all(e.recorded_at == ledger_clock.now() for e in entries)


async def test_every_entry_is_announced_on_the_credit_topic(
    ledger_settings: Settings, ledger_clock: FixedClock
) -> None:
    await publish(
        ledger_settings.kafka,
        [*world(), upstream.activity("c-1", "u-1", ANA, "blog.post_published", at("2024-01-02"))],
    )
    async with running(build_worker(Runtime.create(ledger_settings, ledger_clock))):
        announced = await read_credit_events(ledger_settings, 2)
    first = announced[0]
    assert first["type"] == "managed_credit.changed"
    assert (first["data"]["partner_id"], first["data"]["effective_on"]) == ("p-1", "2024-01-02")
    assert (first["data"]["amount"], first["data"]["currency"]) == ("1000.00", "USD")
    assert first["data"]["client_country"] == "US"
    assert first["data"]["rule"] == "M1"
    assert any(ref.startswith("test/") for ref in first["data"]["cause"])


async def test_m8_a_late_event_corrects_a_past_day_and_both_views_answer(
    ledger_settings: Settings, ledger_db: AsyncEngine, ledger_clock: FixedClock
) -> None:
    worker_runtime = Runtime.create(ledger_settings, ledger_clock)
    await publish(
        ledger_settings.kafka,
        [*world(), upstream.activity("c-1", "u-1", ANA, "blog.post_published", at("2024-01-10"))],
    )
    async with running(build_worker(worker_runtime)):
        first = await until(ledger_db, lambda e: len(timeline(e, "p-1")) == 2)
        known_before = ledger_clock.now()
        ledger_clock.advance(timedelta(days=3))
        # Arrives now, happened on 01-05: credit started five days earlier than was known.
        await publish(
            ledger_settings.kafka,
            [upstream.activity("c-1", "u-1", ANA, "email.sent", at("2024-01-05"))],
        )
        entries = await until(ledger_db, lambda e: len(e) > len(first))

    assert timeline(first, "p-1")[0] == (date(2024, 1, 10), Decimal("1000.00"), "M1")
    assert timeline(entries, "p-1")[0] == (date(2024, 1, 5), Decimal("1000.00"), "M1")
    known_then = [e for e in entries if e.recorded_at <= known_before]
    assert timeline(known_then, "p-1")[0][0] == date(2024, 1, 10)
    correction = [e for e in entries if e.recorded_at > known_before]
    assert {e.effective_on for e in correction} >= {date(2024, 1, 5)}


async def applied_ids(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        rows = await connection.execute(select(AppliedEvent.event_id))  # type: ignore[call-overload]
        return sorted(rows.scalars())


def duplicates_seen() -> float:
    """Messages any consumer of this process recognised as already applied (topics and groups
    carry a prefix per test, so the count is taken before and after)."""
    return sum(
        sample.value
        for metric in REGISTRY.collect()
        if metric.name == "keel_consumer_messages"
        for sample in metric.samples
        if sample.name.endswith("_total") and sample.labels.get("outcome") == "duplicate"
    )


async def test_a_duplicate_event_is_applied_once(
    ledger_settings: Settings, ledger_db: AsyncEngine, ledger_clock: FixedClock
) -> None:
    twice = upstream.activity("c-1", "u-1", ANA, "blog.post_published", at("2024-01-02"), "dup-1")
    # Same client, so the same partition: applied only after the redelivered duplicate.
    sentinel = upstream.activity("c-1", "u-1", ANA, "crm.login", at("2024-01-03"), "sentinel")
    await publish(ledger_settings.kafka, [*world(), twice])
    async with running(build_worker(Runtime.create(ledger_settings, ledger_clock))):
        entries = await until(ledger_db, lambda e: len(timeline(e, "p-1")) == 2)
        applied_before, seen_before = await applied_ids(ledger_db), duplicates_seen()
        await publish(ledger_settings.kafka, [twice, sentinel])

        async def sentinel_applied() -> list[str] | None:
            found = await applied_ids(ledger_db)
            return found if "sentinel" in found else None

        applied_after = await eventually(sentinel_applied)
        again = await ledger_entries(ledger_db)
    assert applied_after == sorted([*applied_before, "sentinel"])
    assert duplicates_seen() - seen_before == 1
    assert len(again) == len(entries)


async def read_credit_events(settings: Settings, count: int) -> list[dict[str, Any]]:
    records = await read_topic(settings.kafka, topics.CREDIT.name, count)
    found = [json.loads(record.value) for record in records]
    return sorted(
        found, key=lambda event: (event["data"]["effective_on"], event["data"]["partner_id"])
    )
