"""The ledger's fast path on a real PostgreSQL: random histories delivered in random batches
(activities late and out of order, removals, subscription changes, a window change inside the
history), applied as the worker applies them; the read table must then say, for every day and
partner, what `attribute` says from the stored facts. An activity that covers no new day writes
no entry, and a replay of every event changes no figure."""

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import ledger_support as upstream
from ledger_support import apply_directly, ledger_entries

from credit_ledger import repository
from credit_ledger.consumers import subscription as ledger_subscription
from credit_ledger.domain.attribution import attribute
from credit_ledger.domain.policy import ManagedPolicy
from credit_ledger.history import load_histories
from keel.clock import FixedClock
from keel.events.catalogue import EVENTS
from keel.events.envelope import CloudEvent
from keel.events.registry import Event
from keel.kafka.publisher import Message
from keel.runtime import Runtime
from keel.settings import Settings

POLICY = ManagedPolicy.load()
START = datetime(2023, 5, 1, tzinfo=UTC)  # the window goes from 90 to 60 days on 2023-06-28
ACTIONS = ("email.sent", "blog.post_published", "login.succeeded")


def story(rng: random.Random, c: str) -> list[Message]:
    """Client `c` with two partners of one or two employees each; activities over 120 days."""

    def moment(days: int = 120) -> datetime:
        return START + timedelta(hours=rng.randrange(days * 24))

    messages = [upstream.client(c, START), upstream.subscription(c, "1000.00", START)]
    for p in (1, 2):
        pid, domain = f"{c}-p{p}", f"{c}-p{p}.example"
        messages.append(upstream.partner(pid, domain, START))
        for u in range(rng.randint(1, 2)):
            uid = f"{c}-p{p}-u{u}"
            messages += [
                upstream.employee(pid, uid, f"{uid}@{domain}", moment(5)),
                upstream.member(c, uid, moment(10)),
            ]
            messages += [
                upstream.activity(c, uid, f"{uid}@{domain}", rng.choice(ACTIONS), moment())
                for _ in range(rng.randint(1, 8))
            ]
            if rng.random() < 0.3:
                kind = rng.choice(["removed", "deactivated"])
                messages.append(upstream.user_change(kind, pid, uid, moment()))
            if rng.random() < 0.2:
                messages.append(upstream.member(c, uid, moment(), added=False))
    if rng.random() < 0.5:
        messages.append(upstream.subscription(c, "999.99", moment()))
    return messages


def parsed(messages: list[Message]) -> list[Event[Any]]:
    return [EVENTS.parse(CloudEvent.from_json(m.value)) for m in messages]


def batches(rng: random.Random, messages: list[Message]) -> list[list[Message]]:
    arrival = rng.sample(messages, len(messages))
    cuts = sorted(rng.sample(range(1, len(arrival)), min(5, len(arrival) - 1)))
    return [arrival[a:b] for a, b in zip([0, *cuts], [*cuts, len(arrival)], strict=True)]


async def test_random_histories_in_random_batches_read_what_attribute_says(
    ledger_settings: Settings,
) -> None:
    clock = FixedClock(datetime(2024, 1, 1, tzinfo=UTC))
    runtime = Runtime.create(ledger_settings, clock)
    days = [START.date() + timedelta(days=n) for n in range(0, 200, 3)]
    try:
        for seed in range(12):
            rng = random.Random(seed)
            c = f"c{seed}"
            for batch in batches(rng, story(rng, c)):
                await apply_directly(runtime.sessions, clock, batch)
            async with runtime.sessions() as session:
                connection = await repository.driver(session)
                [history] = (await load_histories(connection, [c])).values()
                for day in days:
                    truth = attribute(history, day, POLICY).credits()
                    said: dict[str, Decimal] = {}
                    for p in (1, 2):
                        for row in await repository.managed_on(connection, f"{c}-p{p}", day):
                            said[row.partner_id] = row.amount
                    assert said == {p: a for p, a in truth.items() if a != 0}, (seed, day)
    finally:
        await runtime.close()


async def test_an_activity_that_covers_no_new_day_writes_nothing_and_a_replay_changes_nothing(
    ledger_settings: Settings,
) -> None:
    clock = FixedClock(datetime(2024, 1, 1, tzinfo=UTC))
    runtime = Runtime.create(ledger_settings, clock)
    when = datetime(2024, 1, 1, tzinfo=UTC)
    world = [
        upstream.client("c-1", when),
        upstream.subscription("c-1", "100.00", when),
        upstream.partner("p-1", "a.example", when),
        upstream.employee("p-1", "u-1", "u-1@a.example", when),
        upstream.member("c-1", "u-1", when),
    ]

    def act(day: int, hour: int = 9) -> Message:
        moment = when + timedelta(days=day, hours=hour)
        return upstream.activity("c-1", "u-1", "u-1@a.example", "email.sent", moment)

    try:
        await apply_directly(runtime.sessions, clock, world)
        first = [act(1)]
        await apply_directly(runtime.sessions, clock, first)
        started = await ledger_entries(runtime.engine)
        assert [(e.effective_on, e.amount, e.rule) for e in started] == [
            (date(2024, 1, 2), Decimal("100.00"), "M1"),
            (date(2024, 3, 2), Decimal("0"), "M2"),  # M2: known in advance, 60 days on
        ]
        await apply_directly(runtime.sessions, clock, [act(1, 15)])  # same day: nothing new
        assert len(await ledger_entries(runtime.engine)) == len(started)
        await apply_directly(runtime.sessions, clock, [act(5)])  # the window now ends later
        moved = await ledger_entries(runtime.engine)
        assert [(e.effective_on, e.amount) for e in moved[len(started) :]] == [
            (date(2024, 3, 2), Decimal("100.00")),  # the recorded end no longer holds
            (date(2024, 3, 6), Decimal("0")),
        ]
        # The same facts again through the batch hook, as to a consumer without its applied
        # marks (a replay to a new group): the facts are known, nothing changes, no entry.
        hook = ledger_subscription(POLICY, clock).after_batch
        assert hook is not None
        async with runtime.sessions() as session:
            await hook(session, parsed([*world, *first, act(1, 15), act(5)]))
            await session.commit()
        assert len(await ledger_entries(runtime.engine)) == len(moved)
    finally:
        await runtime.close()
