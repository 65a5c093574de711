"""The app factory every service's `create_app()` calls."""

import gc
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI

from keel import tracing
from keel.http.health import router as health_router
from keel.http.input import refuse_unstorable_input
from keel.http.middleware import RequestContextMiddleware
from keel.http.openapi import install_problem_documentation
from keel.http.problems import install_problem_handlers
from keel.kafka.admin import BrokerProbe
from keel.runtime import Runtime

# Routers carry the prefix themselves, so each route's path (the metrics label) is the full one.
API_PREFIX = "/v1"


def create_service_app(
    runtime: Runtime,
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter],
    version: str = "1",
    on_close: Sequence[Callable[[], Awaitable[None]]] = (),
) -> FastAPI:
    """`on_close`: what else the app holds open (HTTP clients), closed at shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        probe = BrokerProbe(runtime.settings.kafka)
        app.state.runtime = runtime
        app.state.broker_probe = probe
        # What is loaded by now (modules, routes, schemas, policies) lives as long as the
        # process: kept out of the collector's full passes, which otherwise walk it all again
        # on requests that build many objects (a 1,000-client read paused 50-70 ms for it).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()
            for close in on_close:
                await close()
            await probe.close()
            await runtime.close()

    app = FastAPI(
        title=title,
        description=description,
        version=version,
        lifespan=lifespan,
        dependencies=[Depends(refuse_unstorable_input)],
    )
    install_problem_handlers(app)
    install_problem_documentation(app, API_PREFIX)
    app.add_middleware(RequestContextMiddleware, service=runtime.settings.service.name)
    tracing.instrument_app(app, runtime.settings.service.name)
    app.include_router(health_router)
    for router in routers:
        if not router.prefix.startswith(API_PREFIX):
            raise ValueError(f"API routers live under {API_PREFIX}: APIRouter(prefix=API_PREFIX)")
        app.include_router(router)
    return app
