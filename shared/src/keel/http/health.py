"""Open operational endpoints: /healthz (alive), /readyz (database and Kafka answer), /metrics."""

import asyncio
import logging

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from pydantic import BaseModel, Field
from sqlalchemy import text

from keel.http.dependencies import RuntimeDep
from keel.kafka.admin import BrokerProbe

logger = logging.getLogger(__name__)

router = APIRouter(tags=["operations"])

CHECK_TIMEOUT_S = 2.0


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive and serving."""
    return {"status": "ok"}


class Readiness(BaseModel):
    status: str = Field(description="`ready` or `not ready`")
    checks: dict[str, str] = Field(description="Per dependency: `ok` or why it fails")


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "A dependency does not answer"}},
)
async def readyz(request: Request, runtime: RuntimeDep) -> JSONResponse:
    """Ready when the database and the Kafka brokers really answer; 503 names what does not."""
    probe: BrokerProbe = request.app.state.broker_probe
    checks: dict[str, str] = {}

    async def database() -> None:
        async with runtime.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    for name, check in (("database", database), ("kafka", probe.check)):
        try:
            await asyncio.wait_for(check(), CHECK_TIMEOUT_S)
            checks[name] = "ok"
        except Exception as error:
            logger.warning("readiness check %s failed: %s", name, error)
            checks[name] = f"failing: {type(error).__name__}"
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
    )


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics() -> Response:
    """Prometheus text exposition of every metric in this process."""
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
