"""The four services over HTTP, called with the caller's own token and the request's trace.

One page section's data is one upstream call. `section()` runs a call with a timeout and turns
an outage (no answer, a timeout, a 5xx) into an unavailable section instead of an error, so a
page with several sections still answers; a route with one section raises UpstreamUnavailable
(503) instead.
"""

import asyncio
import logging
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel

from keel import context
from keel.errors import AppError, FieldError, Forbidden, NotFound, Unauthorized, ValidationFailed
from partner_portal.config import PortalSettings

logger = logging.getLogger(__name__)

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


class Upstream(StrEnum):
    INGEST = "activity-ingest"
    LEDGER = "credit-ledger"
    TIER = "tier-engine"
    CAPACITY = "capacity"


class UpstreamUnavailable(AppError):
    status, slug, title = 503, "upstream-unavailable", "Upstream service unavailable"

    def __init__(self, upstream: Upstream, reason: str) -> None:
        super().__init__(
            f"{upstream.value} is unavailable: {reason}",
            extensions={"upstream": upstream.value},
            headers={"Retry-After": "5"},
        )
        self.upstream = upstream
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Caller:
    """Who asks: their bearer token goes upstream as it came, so each owner decides access."""

    token: str


def path(*segments: str) -> str:
    """`/v1/<segment>/...`, each segment percent-encoded: ids travel as they came, never as
    path syntax."""
    return "/v1/" + "/".join(quote(segment, safe="") for segment in segments)


class Upstreams:
    def __init__(
        self, settings: PortalSettings, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.timeout_s = settings.upstream_timeout_s
        self.base_urls = {
            Upstream.INGEST: settings.ingest_url,
            Upstream.LEDGER: settings.ledger_url,
            Upstream.TIER: settings.tier_url,
            Upstream.CAPACITY: settings.capacity_url,
        }
        self.client = httpx.AsyncClient(
            transport=transport,
            timeout=settings.upstream_timeout_s,
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=50),
        )

    async def close(self) -> None:
        await self.client.aclose()

    async def get(
        self,
        upstream: Upstream,
        path: str,
        caller: Caller | None,
        answer_model: type[M],
        params: Mapping[str, str | int] | None = None,
    ) -> M:
        """The answer, parsed into the fields the portal reads (straight from the bytes: a
        thousand clients' JSON is parsed in a third of the time `json` takes); 401/403/404/422
        come back as the portal's own errors, an outage as UpstreamUnavailable."""
        answer = await self.send("GET", upstream, path, caller, params=params)
        return answer_model.model_validate_json(answer.content)

    async def post(self, upstream: Upstream, path: str, caller: Caller, body: Any = None) -> Any:
        """An action taken at its owner (end services, link, register...): its JSON answer,
        errors as `get` raises them."""
        answer = await self.send("POST", upstream, path, caller, body=body)
        return answer.json() if answer.content else None

    async def send(
        self,
        method: str,
        upstream: Upstream,
        path: str,
        caller: Caller | None,
        params: Mapping[str, str | int] | None = None,
        body: Any = None,
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {caller.token}"} if caller else {}
        if (trace := context.current()) is not None:
            headers[context.TRACEPARENT] = trace.child().traceparent
        try:
            async with asyncio.timeout(self.timeout_s):
                answer = await self.client.request(
                    method,
                    f"{self.base_urls[upstream]}{path}",
                    params=params,
                    json=body,
                    headers=headers,
                )
        except TimeoutError as error:
            raise UpstreamUnavailable(upstream, f"no answer within {self.timeout_s}s") from error
        except httpx.HTTPError as error:
            raise UpstreamUnavailable(upstream, type(error).__name__) from error
        if answer.status_code >= 500:
            raise UpstreamUnavailable(upstream, f"answered {answer.status_code}")
        if answer.status_code >= 400:
            raise _client_error(upstream, answer)
        return answer


def _client_error(upstream: Upstream, answer: httpx.Response) -> AppError:
    try:
        problem = answer.json()
    except ValueError:
        problem = {}
    detail = str(problem.get("detail") or f"{upstream.value} answered {answer.status_code}")
    if answer.status_code == 401:
        return Unauthorized(detail)
    if answer.status_code == 403:
        return Forbidden(detail)
    if answer.status_code == 404:
        return NotFound(detail)
    errors = [FieldError(e["field"], e["reason"]) for e in problem.get("errors", [])]
    return ValidationFailed(detail, errors=errors)


class Availability(StrEnum):
    OK = "ok"
    UNAVAILABLE = "unavailable"  # the owner did not answer in time, or failed
    NOT_FOUND = "not_found"  # the owner has nothing for it yet


@dataclass(frozen=True, slots=True)
class Section(Generic[T]):
    name: str
    availability: Availability
    value: T | None = None
    reason: str | None = None


async def section(name: str, call: Awaitable[T]) -> Section[T]:
    """Run one section's call (its timeout is the upstream call's); an outage or an absence is
    reported in the section, not raised."""
    try:
        return Section(name, Availability.OK, await call)
    except UpstreamUnavailable as error:
        logger.warning("section %s unavailable: %s", name, error.detail)
        return Section(name, Availability.UNAVAILABLE, reason=error.detail)
    except NotFound as error:
        return Section(name, Availability.NOT_FOUND, reason=error.detail)
