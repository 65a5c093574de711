"""End to end on real servers: an event POSTed to activity-ingest goes through Kafka and is
applied by the credit-ledger worker, exactly once even when posted twice."""

from datetime import timedelta

from pipeline_support import StartPipeline
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from credit_ledger.config import SERVICE_NAME as LEDGER
from keel.auth import Scope
from keel.clock import SystemClock
from keel.settings import Settings
from keel.testing.plugin import MakeToken
from keel.testing.running import eventually
from keel.testing.samples import activity_event


async def test_a_posted_event_is_applied_by_the_ledger_exactly_once(
    start_pipeline: StartPipeline, ledger_settings: Settings, make_token: MakeToken
) -> None:
    ledger_url = ledger_settings.database.url.get_secret_value()
    now = SystemClock().now()
    event = activity_event(
        "smoke-1",
        now - timedelta(minutes=1),
        source="product/landing-pages",
        user_id="u-7",
        user_email="li@agency.example",
        client_id="c-42",
        tool="landing_page",
        action="landing_page.edited",
    )
    headers = {"Authorization": f"Bearer {make_token(Scope.EVENTS_WRITE)}"}
    ledger_db = create_async_engine(ledger_url)

    async def applied() -> list[tuple[str, str, str]]:
        async with ledger_db.connect() as connection:
            rows = await connection.execute(
                text("SELECT consumer, source, event_id FROM applied_event")
            )
            return [tuple(row) for row in rows]

    try:
        async with start_pipeline(SystemClock()) as (ingest, _, _):
            first = await ingest.post("/v1/events", json=event, headers=headers)
            second = await ingest.post("/v1/events", json=event, headers=headers)
            assert first.status_code == second.status_code == 202
            assert first.json()["results"][0]["status"] == "accepted"
            assert second.json()["results"][0]["status"] == "duplicate"

            rows = await eventually(applied)
            # A follow-up event proves the ledger has read past both posts before we count.
            await ingest.post("/v1/events", json={**event, "id": "smoke-2"}, headers=headers)

            async def both() -> bool:
                return len(await applied()) == 2

            await eventually(both)
            rows = await applied()
    finally:
        await ledger_db.dispose()

    assert sorted(rows) == [
        (LEDGER, "product/landing-pages", "smoke-1"),
        (LEDGER, "product/landing-pages", "smoke-2"),
    ]
