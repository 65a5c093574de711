"""Issue 12 point 5: no 5xx from bad input, proven by schemathesis over every service's OpenAPI.

In-process (ASGI) against the real PostgreSQL and broker, with an admin token. Beyond
`not_a_server_error`, every answer must be one the document names (status, content type, body
schema): the error answers are documented as `application/problem+json`, so an undocumented
status or an error body that is not problem details fails here too.
"""

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from portal_support import IN_PROCESS
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.hypothesis.builder import (
    HypothesisTestConfig,
    HypothesisTestMode,
    create_test,
)
from schemathesis.python.asgi import shutdown_lifespans

from activity_ingest.config import SERVICE_NAME as INGEST
from activity_ingest.config import IngestServiceSettings
from activity_ingest.main import create_app as create_ingest_app
from activity_ingest.migrate import MIGRATIONS as INGEST_MIGRATIONS
from capacity.config import SERVICE_NAME as CAPACITY
from capacity.main import create_app as create_capacity_app
from capacity.migrate import MIGRATIONS as CAPACITY_MIGRATIONS
from credit_ledger.config import SERVICE_NAME as LEDGER
from credit_ledger.main import create_app as create_ledger_app
from credit_ledger.migrate import MIGRATIONS as LEDGER_MIGRATIONS
from keel.auth import Scope
from keel.clock import FixedClock
from keel.settings import Settings
from keel.testing.plugin import MakeServiceSettings, MakeToken
from keel.testing.running import AppsTransport, bearer
from partner_portal.config import SERVICE_NAME as PORTAL
from partner_portal.config import PortalServiceSettings
from partner_portal.main import create_app as create_portal_app
from partner_portal.migrate import MIGRATIONS as PORTAL_MIGRATIONS
from tier_engine.config import SERVICE_NAME as TIER
from tier_engine.config import TierServiceSettings
from tier_engine.main import create_app as create_tier_app
from tier_engine.migrate import MIGRATIONS as TIER_MIGRATIONS

# Per operation. The run found the tier engine's 13 server errors in about 2,200
# requests over the four documents (32 operations); this is well above that rate.
EXAMPLES = 100
SEED = 12  # the same cases on every run, so a failure here reproduces

CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]

SERVICES: dict[str, tuple[type[Settings], Path, Callable[..., FastAPI]]] = {
    INGEST: (IngestServiceSettings, INGEST_MIGRATIONS, create_ingest_app),
    LEDGER: (Settings, LEDGER_MIGRATIONS, create_ledger_app),
    TIER: (TierServiceSettings, TIER_MIGRATIONS, create_tier_app),
    CAPACITY: (Settings, CAPACITY_MIGRATIONS, create_capacity_app),
}
# The portal, with the four services above in-process behind it (each on its own database).
OWNERS = {
    "activity-ingest": INGEST,
    "credit-ledger": LEDGER,
    "tier-engine": TIER,
    "capacity": CAPACITY,
}


async def portal_with_owners(make_service_settings: MakeServiceSettings) -> FastAPI:
    """The portal app whose lifespan also runs the four owners it reaches in-process, so
    schemathesis runs them all in the one event loop it gives the app."""
    clock = FixedClock()
    owners = {}
    for host, name in OWNERS.items():
        cls, migrations, create_app = SERVICES[name]
        owners[host] = create_app(await make_service_settings(cls, name, migrations), clock)
    settings = await make_service_settings(PortalServiceSettings, PORTAL, PORTAL_MIGRATIONS)
    settings = settings.model_copy(update={"portal": IN_PROCESS})
    portal = create_portal_app(settings, clock, AppsTransport(owners))
    own = portal.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            for owner in owners.values():
                await stack.enter_async_context(owner.router.lifespan_context(owner))
            async with own(app):
                yield

    portal.router.lifespan_context = lifespan
    return portal


@pytest.fixture(params=[*SERVICES, PORTAL])
async def service_app(
    request: pytest.FixtureRequest, make_service_settings: MakeServiceSettings
) -> FastAPI:
    if request.param == PORTAL:
        return await portal_with_owners(make_service_settings)
    cls, migrations, create_app = SERVICES[request.param]
    settings = await make_service_settings(cls, request.param, migrations)
    return create_app(settings, FixedClock())


def _failures(schema: schemathesis.BaseSchema, headers: dict[str, str]) -> list[str]:
    """Every operation through schemathesis' three phases, as its CLI runs them: the documented
    examples, the coverage of each field's boundaries (valid and invalid values, one field at a
    time), then random valid and invalid input. What failed, one entry per operation."""

    def call(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    config = HypothesisTestConfig(
        project=schema.config,
        modes=list(HypothesisTestMode),
        seed=SEED,
        settings=hypothesis_settings(
            max_examples=EXAMPLES,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        ),
    )
    found = []
    for result in schema.get_all_operations():
        operation = result.ok()
        try:
            create_test(operation=operation, test_func=call, config=config)()
        except (AssertionError, FailureGroup) as error:
            found.append(f"{operation.label}: {str(error).strip()[:2000]}")
    return found


def test_no_operation_answers_a_server_error_or_an_undocumented_answer(
    service_app: FastAPI, make_token: MakeToken
) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", service_app)
    try:
        failures = _failures(schema, bearer(make_token(Scope.ADMIN)))
    finally:
        # schemathesis keeps each app's lifespan running in its own thread: end this one's.
        shutdown_lifespans()
    assert not failures, "\n\n".join(failures)
