"""The worker's expiry sweep (C4): registrations past their expiry are marked expired and
announced. Reads never wait for it: they treat a registration past its expiry as expired."""

import asyncio
import logging

from capacity import service
from keel.runtime import Runtime
from keel.stopping import sleep_unless_stopped

logger = logging.getLogger(__name__)


class ExpirySweep:
    def __init__(self, runtime: Runtime, *, interval_s: float = 60.0, batch_size: int = 1000):
        self.sessions = runtime.sessions
        self.clock = runtime.clock
        self.interval_s = interval_s
        self.batch_size = batch_size

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                expired = await self.sweep_once()
            except Exception:
                logger.warning("expiry sweep failed; retrying", exc_info=True)
                expired = 0
            if expired < self.batch_size:  # a full batch: more may be due at once
                await sleep_unless_stopped(stopping, self.interval_s)

    async def sweep_once(self) -> int:
        async with self.sessions() as session:
            return await service.expire_due(
                session, now=self.clock.now(), batch_size=self.batch_size
            )
