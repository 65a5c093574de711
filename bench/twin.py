"""The bare twin: the least app that does the same durable writes, to measure ours against.

FastAPI and asyncpg against the same PostgreSQL, nothing else: no auth, no validation, no
dependencies, no metrics. `POST /v1/events` logs and queues what it is sent with the ingest's
own statement (one event or a batch, one statement per request); `POST
/v1/partners/{p}/registrations` runs capacity's own one-statement registration (untiered
limits; at the bound it answers 409 without counting). Run as its own uvicorn process(es):
`python bench/twin.py PORT PROCESSES` with TWIN_INGEST_DSN and TWIN_CAPACITY_DSN set.
"""

import json
import os
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
import uvicorn
from fastapi import FastAPI, Request, Response

from activity_ingest.repository import LOG_AND_QUEUE
from capacity.repository import REGISTER
from keel.events.payloads.tier import Tier

UNTIERED = {tier.value: 50 for tier in Tier}


def create() -> FastAPI:
    pools: dict[str, asyncpg.Pool] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pools["ingest"] = await asyncpg.create_pool(os.environ["TWIN_INGEST_DSN"], max_size=10)
        pools["capacity"] = await asyncpg.create_pool(os.environ["TWIN_CAPACITY_DSN"], max_size=10)
        yield
        for pool in pools.values():
            await pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.post("/v1/events")
    async def events(request: Request) -> Response:
        parsed: Any = json.loads(await request.body())
        items = parsed if isinstance(parsed, list) else [parsed]
        columns: list[list[Any]] = [[] for _ in range(8)]
        for item in items:
            for column, value in zip(
                columns,
                (
                    item["source"],
                    item["id"],
                    item["type"],
                    "activity.events.v1",
                    item["data"]["client_id"],
                    datetime.fromisoformat(item["time"]),
                    json.dumps(item),
                    "[]",
                ),
                strict=True,
            ):
                column.append(value)
        async with pools["ingest"].acquire() as connection:
            logged = await connection.fetch(LOG_AND_QUEUE, *columns)
        results = [{"id": row["event_id"], "status": "accepted"} for row in logged]
        answer = {"accepted": len(logged), "results": results}
        return Response(json.dumps(answer), 202, media_type="application/json")

    @app.post("/v1/partners/{partner_id}/registrations")
    async def register(partner_id: str, request: Request) -> Response:
        lead = json.loads(await request.body())
        domain = lead["website"].split("//")[-1].split("/")[0].removeprefix("www.")
        now = datetime.now(UTC)
        registration_id = str(uuid.uuid4())
        message = json.dumps({"id": registration_id, "partner_id": partner_id, "domain": domain})
        async with pools["capacity"].acquire() as connection:
            row = await connection.fetchrow(
                REGISTER,
                partner_id,
                "solutions",
                list(UNTIERED),
                list(UNTIERED.values()),
                registration_id,
                domain,
                lead["website"],
                lead["company"],
                lead["contact_name"],
                lead["country"],
                now,
                None,
                "capacity.events.v1",
                message.encode(),
                "[]",
            )
        status = 201 if row["registered"] else 409
        return Response(json.dumps({"id": registration_id}), status, media_type="application/json")

    return app


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(__file__))
    uvicorn.run(
        "twin:create",
        factory=True,
        host="127.0.0.1",
        port=int(sys.argv[1]),
        workers=int(sys.argv[2]),
        log_level="warning",
        access_log=False,
        app_dir=os.path.dirname(os.path.abspath(__file__)),
    )
