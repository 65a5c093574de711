"""Cooperative stopping: one event set by SIGTERM/SIGINT that every loop watches."""

import asyncio
import signal
from collections.abc import Awaitable, Callable


async def sleep_unless_stopped(
    stopping: asyncio.Event, seconds: float, *wakers: asyncio.Event
) -> None:
    """Sleep `seconds`, or less if `stopping` or any of `wakers` is set meanwhile."""
    waiters = [asyncio.create_task(event.wait()) for event in (stopping, *wakers)]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


def run_until_signalled(main: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """Run `main(stopping)` on a fresh event loop; SIGTERM and SIGINT set `stopping`."""

    async def _main() -> None:
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stopping.set)
        await main(stopping)

    asyncio.run(_main())
