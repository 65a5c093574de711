"""Request context and HTTP metrics, as one plain ASGI middleware (no per-request task switch)."""

import logging
import time

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from keel import context
from keel.http.problems import internal_error
from keel.metrics import HTTP_LATENCY, HTTP_REQUESTS

access_log = logging.getLogger("keel.access")


class RequestContextMiddleware:
    """Binds the trace context (W3C `traceparent` in, or new), echoes the request id, counts."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        trace = (
            context.TraceContext.from_span()  # OpenTelemetry's server span, when tracing is on
            or context.TraceContext.parse(
                headers.get(context.TRACEPARENT.encode(), b"").decode("latin-1")
            )
            or context.TraceContext.new()
        )
        status = 500
        started = time.perf_counter()
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                response_headers = MutableHeaders(scope=message)
                response_headers[context.REQUEST_ID_HEADER] = trace.trace_id
                response_headers[context.TRACEPARENT] = trace.traceparent
            await send(message)

        with context.bind(trace):
            try:
                await self.app(scope, receive, send_with_id)
            except Exception:
                # Here, not in an exception handler, so the log line carries the request id.
                access_log.exception("unhandled error on %s %s", scope["method"], scope["path"])
                if not response_started:
                    await internal_error(scope["path"])(scope, receive, send_with_id)
            finally:
                route = scope.get("route")
                path = getattr(route, "path", "unmatched")
                method = scope["method"]
                elapsed = time.perf_counter() - started
                HTTP_REQUESTS.labels(self.service, method, path, str(status)).inc()
                HTTP_LATENCY.labels(self.service, method, path).observe(elapsed)
                access_log.info(
                    "%s %s %d",
                    method,
                    scope["path"],
                    status,
                    extra={
                        "status": status,
                        "route": path,
                        "duration_ms": round(elapsed * 1000, 3),
                    },
                )
