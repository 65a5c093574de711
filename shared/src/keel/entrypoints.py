"""The commands of every service image: `<service> api|worker|migrate|...`.

`dispatch` imports only the command it runs, so an api process never loads Alembic.
"""

import argparse
import asyncio
from collections.abc import Callable, Mapping
from pkgutil import resolve_name

import uvicorn
from prometheus_client import start_http_server

from keel import tracing
from keel.logs import configure_logging
from keel.runtime import Runtime
from keel.settings import Settings
from keel.stopping import run_until_signalled
from keel.worker import Worker


def service_commands(package: str, **extra: str) -> dict[str, str]:
    """The commands every service image has, as `package.module:function`, plus `extra`
    (name -> `module:function` in the package)."""
    standard = {
        "api": "main:run",
        "worker": "worker:run",
        "migrate": "migrate:run",
        "await-schema": "migrate:await_schema",
    }
    return {name: f"{package}.{target}" for name, target in (standard | extra).items()}


def dispatch(service: str, commands: Mapping[str, str]) -> None:
    """The one console script of a service: `commands` maps a name to `package.module:function`."""
    parser = argparse.ArgumentParser(prog=service, description=f"Run one {service} process.")
    parser.add_argument("command", choices=list(commands))
    command: Callable[[], None] = resolve_name(commands[parser.parse_args().command])
    command()


def serve_api(app_factory: str, settings: Settings) -> None:
    """`app_factory` is `package.module:create_app`; uvicorn stops gracefully on SIGTERM."""
    configure_logging(settings.service.name, settings.service.log_level)
    tracing.configure_from_environment(settings.service.name)
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
    tracing.configure_from_environment(settings.service.name)
    if settings.service.worker_metrics_port:
        start_http_server(settings.service.worker_metrics_port, addr=settings.service.host)

    async def main(stopping: asyncio.Event) -> None:
        await build(Runtime.create(settings)).run(stopping)

    run_until_signalled(main)
