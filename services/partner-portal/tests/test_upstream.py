"""What goes upstream with each call: the caller's own token and the request's trace; and how
owners' answers come back (their 404 as the portal's, an outage as 503). The owner here is a
plain ASGI app, as it is in-process elsewhere."""

import httpx
import pytest
from fastapi import FastAPI, Request

from keel import context
from keel.errors import NotFound
from partner_portal.config import PortalSettings
from partner_portal.schemas import ReadyAnswer
from partner_portal.upstream import Caller, Upstream, Upstreams, UpstreamUnavailable

SETTINGS = PortalSettings(ledger_url="http://credit-ledger")


def owner(seen: list[dict[str, str]]) -> FastAPI:
    app = FastAPI()

    @app.get("/ok")
    async def ok(request: Request) -> dict[str, str]:
        seen.append(dict(request.headers))
        return {"status": "ready"}

    @app.get("/gone", status_code=404)
    async def gone() -> dict[str, str]:
        return {"detail": "no such client"}

    @app.get("/broken", status_code=500)
    async def broken() -> dict[str, str]:
        return {"detail": "boom"}

    return app


async def test_the_callers_token_and_the_requests_trace_go_upstream() -> None:
    seen: list[dict[str, str]] = []
    upstreams = Upstreams(SETTINGS, httpx.ASGITransport(app=owner(seen)))
    trace = context.TraceContext.new()
    try:
        with context.bind(trace):
            await upstreams.get(Upstream.LEDGER, "/ok", Caller("the-token"), ReadyAnswer)
    finally:
        await upstreams.close()
    [headers] = seen
    assert headers["authorization"] == "Bearer the-token"
    parsed = context.TraceContext.parse(headers["traceparent"])
    assert parsed is not None
    assert parsed.trace_id == trace.trace_id


async def test_an_owners_404_is_the_portals_and_its_500_an_outage() -> None:
    upstreams = Upstreams(SETTINGS, httpx.ASGITransport(app=owner([])))
    try:
        with pytest.raises(NotFound, match="no such client"):
            await upstreams.get(Upstream.LEDGER, "/gone", Caller("t"), ReadyAnswer)
        with pytest.raises(UpstreamUnavailable) as outage:
            await upstreams.get(Upstream.LEDGER, "/broken", Caller("t"), ReadyAnswer)
    finally:
        await upstreams.close()
    assert (outage.value.status, outage.value.headers["Retry-After"]) == (503, "5")
