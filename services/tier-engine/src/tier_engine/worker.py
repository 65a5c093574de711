import asyncio
import logging

from keel.clock import today
from keel.entrypoints import serve_worker
from keel.logs import configure_logging
from keel.runtime import Runtime
from keel.stopping import sleep_unless_stopped
from keel.worker import Worker
from tier_engine.config import TierSettings, load_settings
from tier_engine.consumers import subscription
from tier_engine.domain.calendar import latest_closed_month
from tier_engine.domain.policy import TierPolicy
from tier_engine.service import rollups

logger = logging.getLogger(__name__)

RETRY_FIRST_S = 0.5


class MonthlyRollup:
    """T3 on schedule: once a month's 15th is over, its rollup runs (once; re-runs are on
    demand). Checked every `interval_s`, so a worker that was down catches up when it starts."""

    def __init__(self, runtime: Runtime, policy: TierPolicy, interval_s: float = 300) -> None:
        self.runtime, self.policy, self.interval_s = runtime, policy, interval_s

    async def run_once(self) -> None:
        month = latest_closed_month(today(self.runtime.clock))
        async with self.runtime.sessions() as session:
            outcome = await rollups.run_scheduled_rollup(
                session, self.policy, month, self.runtime.clock.now()
            )
        if outcome is None:
            logger.info("rollup %s already stored", month)
        else:
            logger.info("rollup %s revision %d stored", outcome.month, outcome.revision)

    async def run(self, stopping: asyncio.Event) -> None:
        backoff = RETRY_FIRST_S
        while not stopping.is_set():
            try:
                await self.run_once()
            except Exception:
                # The database away (issue 12 point 7) must not end the worker: wait, try again.
                logger.warning(
                    "scheduled rollup failed; retrying in %.1f s", backoff, exc_info=True
                )
                await sleep_unless_stopped(stopping, backoff)
                backoff = min(backoff * 2, self.interval_s)
                continue
            backoff = RETRY_FIRST_S
            await sleep_unless_stopped(stopping, self.interval_s)


def build_worker(runtime: Runtime, tier: TierSettings | None = None) -> Worker:
    policy = TierPolicy.load(runtime.settings.service.policy_dir)
    worker = Worker(runtime)
    worker.consume(subscription(policy, runtime.clock))
    if (tier or TierSettings()).scheduled_rollup:
        worker.add(MonthlyRollup(runtime, policy))
    worker.relay_outbox()
    return worker


def run() -> None:
    settings = load_settings()
    serve_worker(lambda runtime: build_worker(runtime, settings.tier), settings)


def rollup() -> None:
    """The `tier-engine rollup` command (the CronJob): the newest closed month's rollup, then
    exit. Its events leave through the worker's outbox relay."""
    settings = load_settings()
    configure_logging(f"{settings.service.name}-rollup", settings.service.log_level)

    async def main() -> None:
        runtime = Runtime.create(settings)
        try:
            await MonthlyRollup(runtime, TierPolicy.load(settings.service.policy_dir)).run_once()
        finally:
            await runtime.close()

    asyncio.run(main())
