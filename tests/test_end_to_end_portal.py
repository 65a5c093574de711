"""From events posted to activity-ingest to what a partner sees in its portal: the clients
table, the renewal alert and the why-credited checklist, for a partner token. Every service and
worker runs in-process on real PostgreSQL and Kafka; the portal reaches the others over HTTP."""

from portal_support import AS_OF, WORLD, Settings5, system

from activity_ingest.config import IngestServiceSettings
from keel.settings import Settings
from keel.testing.plugin import MakeToken
from keel.testing.running import eventually
from partner_portal.config import PortalServiceSettings


async def test_events_posted_to_ingest_reach_the_partners_clients_alerts_and_checklist(
    ingest_settings: IngestServiceSettings,
    ledger_settings: Settings,
    tier_settings: Settings,
    capacity_settings: Settings,
    portal_settings: PortalServiceSettings,
    make_token: MakeToken,
) -> None:
    settings = Settings5(
        ingest_settings, ledger_settings, tier_settings, capacity_settings, portal_settings
    )
    async with system(settings, make_token) as running:
        await running.post(WORLD)

        async def table() -> dict[str, str] | None:
            answer = await running.get("/v1/partners/p-1/clients", "p-1", as_of=AS_OF)
            rows = {r["client_id"]: r["relationship"] for r in answer.json()["clients"]}
            return rows if len(rows) == 3 else None

        async def alerted() -> dict[str, object] | None:
            answer = await running.get("/v1/partners/p-1/dashboard", "p-1", as_of=AS_OF)
            alerts: dict[str, object] = answer.json()["alerts"]["renewal_decisions"]
            return alerts if alerts["count"] else None

        clients = await eventually(table, timeout_s=60)
        renewals = await eventually(alerted, timeout_s=60)
        details = (await running.get("/v1/partners/p-1/clients/c-1", "p-1", as_of=AS_OF)).json()
    assert clients == {"c-1": "managed", "c-2": "sold", "c-3": "both"}
    assert renewals["clients"] == ["c-1"]
    checklist = details["why_credited"]
    assert (checklist["credited"], checklist["share"]) == (True, "1/1")
    ana = next(u for u in checklist["users"] if u["user_id"] == "u-1")
    assert [step["passed"] for step in ana["steps"]] == [True, True, True, True]
    assert ana["first_failing_step"] is None
