"""The worker process: long-running loops (consumers, outbox relay, schedules) that stop cleanly.

When `stopping` is set (SIGTERM/SIGINT), every loop finishes the batch in hand, commits and
returns; then the publisher and the engine close. If any loop dies, the others are stopped too
and the error is raised, so the process exits non-zero and the orchestrator restarts it.
"""

import asyncio
import logging
from typing import Protocol

from keel import tracing
from keel.kafka.consumer import ConsumerLoop, Subscription
from keel.kafka.lag import LagMonitor
from keel.kafka.publisher import Publisher
from keel.outbox import OutboxRelay
from keel.runtime import Runtime

logger = logging.getLogger(__name__)


class Loop(Protocol):
    async def run(self, stopping: asyncio.Event) -> None: ...


class Worker:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.publisher = Publisher(runtime.settings.kafka)
        self.loops: list[Loop] = []

    def add(self, loop: Loop) -> None:
        self.loops.append(loop)

    def consume(self, subscription: Subscription) -> None:
        kafka = self.runtime.settings.kafka
        self.add(ConsumerLoop(subscription, kafka, self.runtime.sessions, self.publisher))
        self.add(LagMonitor(subscription.name, subscription.topics, kafka))

    def relay_outbox(self) -> None:
        self.add(OutboxRelay(self.runtime, self.publisher))

    async def run(self, stopping: asyncio.Event) -> None:
        await self.publisher.start()
        try:
            with tracing.serving(self.runtime.settings.service.name):
                tasks = [asyncio.create_task(loop.run(stopping)) for loop in self.loops]
            stopped = asyncio.create_task(stopping.wait())
            await asyncio.wait([*tasks, stopped], return_when=asyncio.FIRST_COMPLETED)
            stopping.set()
            results = await asyncio.gather(*tasks, stopped, return_exceptions=True)
        finally:
            await self.publisher.stop()
            await self.runtime.close()
        errors = [result for result in results if isinstance(result, BaseException)]
        if errors:
            raise errors[0]
        logger.info("worker %s stopped cleanly", self.runtime.settings.service.name)
