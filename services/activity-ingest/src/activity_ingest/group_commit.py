"""Group commit: concurrent ingest requests share one statement and one commit.

Every request's new events join the open group; a writer takes the whole group, logs and queues
it with one statement, commits once, and hands each request the events it won. There is no
timer: a group is written as soon as a writer is free, so a request waits at most for the group
each writer holds now (bounded by `max_rows`) and then for its own. `accepted` still means
committed: a request is answered only after its group's COMMIT returned, and if the group fails,
every request in it fails and none of its rows remain.
"""

import asyncio
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import asyncpg

from activity_ingest import repository
from activity_ingest.repository import Identity, LogRow
from keel.db import RawDatabase


@dataclass(slots=True)
class _Request:
    rows: Sequence[LogRow]
    done: asyncio.Future[set[Identity]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class GroupCommit:
    def __init__(self, database: RawDatabase, *, writers: int = 2, max_rows: int = 2000) -> None:
        self.database = database
        self.writers = writers
        self.max_rows = max_rows
        self._waiting: deque[_Request] = deque()
        self._busy = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def log_and_queue(self, rows: Sequence[LogRow]) -> set[Identity]:
        """Log and queue `rows` (each identity once) in some group; returns the identities this
        request logged. A copy that another request of the same group also carries is logged
        for the request that joined first; the later one finds it a duplicate, as it would
        after a commit of its own."""
        request = _Request(rows)
        self._waiting.append(request)
        if self._busy < self.writers:
            self._busy += 1
            task = asyncio.create_task(self._write_groups())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await request.done

    async def _write_groups(self) -> None:
        try:
            while self._waiting:
                await self._write(self._take_group())
        finally:
            self._busy -= 1

    def _take_group(self) -> list[_Request]:
        group: list[_Request] = []
        size = 0
        while self._waiting and (not group or size + len(self._waiting[0].rows) <= self.max_rows):
            request = self._waiting.popleft()
            group.append(request)
            size += len(request.rows)
        return group

    async def _write(self, group: list[_Request]) -> None:
        owner: dict[Identity, _Request] = {}
        for request in group:
            for row in request.rows:
                owner.setdefault(row.identity, request)
        rows = [row for request in group for row in request.rows if owner[row.identity] is request]

        async def write(connection: asyncpg.Connection) -> set[Identity]:
            return await repository.log_and_queue(connection, rows)

        try:
            logged = await self.database.transaction(write)
        except Exception as error:
            for request in group:
                if not request.done.done():
                    request.done.set_exception(error)
            return
        for request in group:
            if not request.done.done():  # a request whose client went away is not waited for
                request.done.set_result(
                    {
                        row.identity
                        for row in request.rows
                        if row.identity in logged and owner[row.identity] is request
                    }
                )
