"""Each M-rule once more, through the stored facts and ledger on a real PostgreSQL (applied as
the worker applies them) and read back through the API; and a poison message through Kafka."""

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import ledger_support as upstream
import pytest
from ledger_story import at
from ledger_support import apply_directly

from credit_ledger.main import create_app
from credit_ledger.worker import build_worker
from keel.auth import Scope
from keel.clock import FixedClock
from keel.events import topics
from keel.kafka.publisher import Message
from keel.runtime import Runtime
from keel.settings import Settings
from keel.testing.plugin import MakeToken
from keel.testing.running import app_client, bearer, publish, read_topic, running

Apply = Callable[[list[Message]], Awaitable[None]]
Credits = Callable[[str, str], Awaitable[dict[str, str]]]
Ledger = tuple[Apply, Credits]


def team(n: int, first_day: str = "2024-01-01", mrr: str = "100.00") -> list[Message]:
    """n partners, each with one employee who is a member of client c-1."""
    when = at(first_day)
    messages = [upstream.client("c-1", when), upstream.subscription("c-1", mrr, when)]
    for i in range(1, n + 1):
        messages += [
            upstream.partner(f"p-{i}", f"a{i}.example", when),
            upstream.employee(f"p-{i}", f"u-{i}", f"u{i}@a{i}.example", when),
            upstream.member("c-1", f"u-{i}", when),
        ]
    return messages


def act(i: int, day: str, action: str = "email.sent") -> Message:
    return upstream.activity("c-1", f"u-{i}", f"u{i}@a{i}.example", action, at(day))


@pytest.fixture
async def ledger(ledger_settings: Settings, make_token: MakeToken) -> AsyncIterator[Ledger]:
    clock = FixedClock(datetime(2024, 1, 1, tzinfo=UTC))
    runtime = Runtime.create(ledger_settings, clock)
    admin = bearer(make_token(Scope.ADMIN))

    async def apply(messages: list[Message]) -> None:
        await apply_directly(runtime.sessions, clock, messages)

    async with app_client(create_app(ledger_settings, clock)) as api:

        async def credits(partner_id: str, day: str) -> dict[str, str]:
            answer = await api.get(
                f"/v1/partners/{partner_id}/managed-credit", params={"as_of": day}, headers=admin
            )
            return {c["client_id"]: c["credit"] for c in answer.json()["clients"]}

        yield apply, credits
    await runtime.close()


async def test_m2_the_60_day_window_at_its_boundary(ledger: Ledger) -> None:
    apply, credits = ledger
    await apply([*team(1), act(1, "2024-01-01")])
    assert await credits("p-1", "2024-02-29") == {"c-1": "100.00"}
    assert await credits("p-1", "2024-03-01") == {}


async def test_m2_the_90_day_window_at_its_boundary(ledger: Ledger) -> None:
    apply, credits = ledger
    await apply([*team(1, "2022-12-01"), act(1, "2023-01-01")])
    assert await credits("p-1", "2023-03-31") == {"c-1": "100.00"}
    assert await credits("p-1", "2023-04-01") == {}


async def test_m7_three_partners_split_exactly(ledger: Ledger) -> None:
    apply, credits = ledger
    await apply([*team(3), act(1, "2024-01-02"), act(2, "2024-01-02"), act(3, "2024-01-02")])
    shares = [await credits(f"p-{i}", "2024-01-02") for i in (1, 2, 3)]
    assert shares == [{"c-1": "33.34"}, {"c-1": "33.33"}, {"c-1": "33.33"}]


async def test_m6_deactivation_keeps_credit_but_m5_removal_ends_it(ledger: Ledger) -> None:
    apply, credits = ledger
    await apply(
        [
            *team(2),
            act(1, "2024-01-02"),
            act(2, "2024-01-02"),
            upstream.user_change("deactivated", "p-1", "u-1", at("2024-01-10")),
            upstream.user_change("removed", "p-2", "u-2", at("2024-01-10")),
        ]
    )
    assert await credits("p-1", "2024-01-20") == {"c-1": "100.00"}  # M6: alone now, still credited
    assert await credits("p-2", "2024-01-10") == {}  # M5: ends on the day of removal
    assert await credits("p-2", "2024-01-09") == {"c-1": "50.00"}


async def test_m1_an_activity_before_the_assignment_never_counts(ledger: Ledger) -> None:
    apply, credits = ledger
    # u-1 acts in c-1 on 01-02 but only becomes a member (and so assigned, M4) on 01-05.
    when = at("2024-01-01")
    await apply(
        [
            upstream.client("c-1", when),
            upstream.subscription("c-1", "100.00", when),
            upstream.partner("p-1", "a1.example", when),
            upstream.employee("p-1", "u-1", "u1@a1.example", when),
            act(1, "2024-01-02"),
            upstream.member("c-1", "u-1", at("2024-01-05")),
        ]
    )
    assert await credits("p-1", "2024-01-06") == {}


async def test_m3_a_login_is_not_a_qualifying_activity(ledger: Ledger) -> None:
    apply, credits = ledger
    await apply([*team(1), act(1, "2024-01-02", "login.succeeded")])
    assert await credits("p-1", "2024-01-02") == {}


async def test_a_poison_message_goes_to_the_dead_letter_topic_and_the_rest_applies(
    ledger_settings: Settings,
) -> None:
    clock = FixedClock(datetime(2024, 1, 1, tzinfo=UTC))
    poison = Message(topics.ACTIVITY.name, "c-1", b'{"specversion": "1.0", "id": "x"}')
    await publish(ledger_settings.kafka, [poison, *team(1)])
    async with running(build_worker(Runtime.create(ledger_settings, clock))):
        [letter] = await read_topic(ledger_settings.kafka, f"{topics.ACTIVITY.name}.dlq", 1)
    assert dict(letter.headers)["dlq-reason"] == b"not_a_cloudevent"
    assert dict(letter.headers)["dlq-consumer"] == b"credit-ledger"
