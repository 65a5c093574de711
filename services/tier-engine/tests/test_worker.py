"""The tier engine's worker on real Kafka and PostgreSQL: events consumed once, a deal in an
unknown currency dead-lettered with the reason, the scheduled rollup, and tier.changed published
through the outbox."""

import json

from sqlalchemy import func, select
from tier_story import POLICY, TierStory, deal_closed

from keel.events import topics
from keel.kafka.publisher import Message
from keel.runtime import Runtime
from keel.settings import Settings
from keel.testing.running import eventually, publish, read_topic, running
from keel.worker import Worker
from tier_engine.config import TierSettings
from tier_engine.consumers import subscription
from tier_engine.tables import Deal, Rollup
from tier_engine.worker import MonthlyRollup, build_worker


def consuming_worker(runtime: Runtime) -> Worker:
    worker = Worker(runtime)
    worker.consume(subscription(POLICY, runtime.clock))
    worker.relay_outbox()
    return worker


async def test_p1_a_deal_in_an_unknown_currency_is_dead_lettered_and_the_rest_applied(
    story: TierStory, tier_settings: Settings
) -> None:
    good = deal_closed("p-1", "c-1", "1000", "2024-06-01")
    unknown = deal_closed("p-1", "c-2", "1000", "2024-06-01", currency="BRL", country="BR")
    messages: list[Message] = [e.message() for e in (unknown, good, good)]  # good twice
    await publish(tier_settings.kafka, messages)
    async with running(consuming_worker(story.runtime)):

        async def deals() -> int | None:
            async with story.runtime.sessions() as session:
                return await session.scalar(select(func.count()).select_from(Deal))

        assert await eventually(deals) == 1
        [letter] = await read_topic(tier_settings.kafka, topics.DEAL.dead_letter.name, 1)
    headers = dict(letter.headers)
    assert headers["dlq-reason"] == b"unknown_currency"
    assert b"BRL" in headers["dlq-detail"]
    assert json.loads(letter.value)["id"] == unknown.envelope.id


async def test_t3_the_worker_rolls_up_the_closed_month_and_publishes_tier_changes(
    story: TierStory, tier_settings: Settings
) -> None:
    story.partner("p-1")
    story.deal("p-1", "c-1", "3000", "2024-06-01")  # 150 sold points: gold
    await story.apply()
    worker = consuming_worker(story.runtime)
    worker.add(MonthlyRollup(story.runtime, POLICY, interval_s=0.05))
    async with running(worker):
        changed = await read_topic(tier_settings.kafka, topics.TIER.name, 2)
    types = sorted(json.loads(record.value)["type"] for record in changed)
    assert types == ["rollup.completed", "tier.changed"]
    tier = next(json.loads(r.value)["data"] for r in changed if r.key == b"p-1")
    assert (tier["month"], tier["tier"], tier.get("previous_tier")) == ("2025-03", "gold", None)
    async with story.runtime.sessions() as session:
        revisions = await session.scalar(select(func.count()).select_from(Rollup))
    assert revisions == 1  # checked every 50 ms, run once


async def test_t3_the_worker_leaves_the_rollup_to_the_cronjob_when_told(
    tier_settings: Settings,
) -> None:
    runtime = Runtime.create(tier_settings)
    try:
        scheduled = build_worker(runtime, TierSettings(scheduled_rollup=True))
        unscheduled = build_worker(runtime, TierSettings(scheduled_rollup=False))
    finally:
        await runtime.close()
    assert sum(isinstance(loop, MonthlyRollup) for loop in scheduled.loops) == 1
    assert not any(isinstance(loop, MonthlyRollup) for loop in unscheduled.loops)
