"""The long-running commands of every service image: api and worker.

The third, migrate, lives in keel.migrations so these two never import Alembic.
"""

import asyncio
from collections.abc import Callable

import uvicorn
from prometheus_client import start_http_server

from keel.logs import configure_logging
from keel.runtime import Runtime
from keel.settings import Settings
from keel.stopping import run_until_signalled
from keel.worker import Worker


def serve_api(app_factory: str, settings: Settings) -> None:
    """`app_factory` is `package.module:create_app`; uvicorn stops gracefully on SIGTERM."""
    configure_logging(settings.service.name, settings.service.log_level)
    uvicorn.run(
        app_factory,
        factory=True,
        host=settings.service.host,
        port=settings.service.port,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        timeout_graceful_shutdown=20,
    )


def serve_worker(build: Callable[[Runtime], Worker], settings: Settings) -> None:
    configure_logging(f"{settings.service.name}-worker", settings.service.log_level)
    if settings.service.worker_metrics_port:
        start_http_server(settings.service.worker_metrics_port, addr=settings.service.host)

    async def main(stopping: asyncio.Event) -> None:
        await build(Runtime.create(settings)).run(stopping)

    run_until_signalled(main)
