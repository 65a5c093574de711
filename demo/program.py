"""`make demo`: a realistic partner program posted into a running `make run` stack, as upstream
products would post it (activity-ingest's batch API), then the rollups of the closed months and
sign-in links for partners of different tiers.

Everything comes from one seed: about 50 partners of every type with employees and contractors,
2,000 clients in several currencies and growth markets, a year of qualifying activity and deals,
renewals, engagement, team assignments, a few removals and ended services. Event ids are stable,
so running it twice adds nothing (ingest acknowledges a duplicate once, S8).

One thing is not an upstream fact: capacity registers a domain only "now", so the history of
registrations under which the year's deals were sold (S3) is published to capacity's topic as
capacity would have published it; the capacity manager itself starts empty.
"""

import asyncio
import json
import os
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from keel.events.catalogue import EVENTS
from keel.events.envelope import CloudEvent
from keel.events.payloads.capacity import DomainRegisteredV1
from keel.kafka.publisher import Message
from keel.settings import KafkaSettings
from keel.testing.running import publish
from keel.testing.samples import deal_event, upstream_event

ROOT = Path(__file__).resolve().parent.parent
SEED = 16
PARTNERS = 50
CLIENTS = 2000
BATCH = 500
INGEST = "http://127.0.0.1:8001"
LEDGER = "http://127.0.0.1:8002"
TIER = "http://127.0.0.1:8003"
PORTAL = "http://127.0.0.1:8005"

# Currencies of the point-unit table (P1) with a typical MRR scale, and where clients are.
COUNTRIES = {
    "US": "USD",
    "GB": "GBP",
    "DE": "EUR",
    "IT": "EUR",
    "DK": "EUR",
    "SE": "EUR",
    "AU": "AUD",
    "CA": "CAD",
    "JP": "JPY",
    "SG": "SGD",
    "ZA": "ZAR",
    "IN": "USD",
    "BR": "USD",
    "MX": "USD",
    "CO": "COP",
}
UNIT = {
    "USD": 100,
    "GBP": 62.5,
    "EUR": 75,
    "AUD": 105,
    "CAD": 130,
    "JPY": 12000,
    "SGD": 140,
    "ZAR": 1545,
    "COP": 300300,
}
WORDS = [
    "Acme",
    "Alpine",
    "Amber",
    "Atlas",
    "Birch",
    "Blue",
    "Bright",
    "Cedar",
    "Coral",
    "Delta",
    "Ember",
    "Falcon",
    "Fjord",
    "Golden",
    "Harbor",
    "Iris",
    "Juniper",
    "Kestrel",
    "Linden",
    "Maple",
    "Meadow",
    "Nordic",
    "Oak",
    "Orbit",
    "Pine",
    "Quartz",
    "River",
    "Sage",
    "Silver",
    "Solar",
    "Spruce",
    "Summit",
    "Tidal",
    "Umber",
    "Vale",
    "Willow",
    "Zephyr",
]
TRADES = [
    "Bakery",
    "Books",
    "Garden",
    "Dairy",
    "Studio",
    "Labs",
    "Travel",
    "Fitness",
    "Clinic",
    "Cycles",
    "Coffee",
    "Tools",
    "Media",
    "Foods",
    "Logistics",
    "Dental",
    "Legal",
    "Outdoor",
    "Music",
    "Print",
]
APPS = [
    "crm",
    "email",
    "forms",
    "lists",
    "workflows",
    "landing_pages",
    "website_pages",
    "ctas",
    "social_publishing",
    "reporting_add_on",
    "contacts",
    "sources_report",
]
ACTIONS = (
    "blog.post_published",
    "email.sent",
    "workflow.edited",
    "landing_page.published",
    "form.created",
    "list.edited",
    "social.post_published",
    "report.created",
)
TYPES = ("solutions",) * 6 + ("provider",) * 2 + ("referral",) * 2
PEOPLE = ("Pat Lind", "Sam Rossi", "Kim Berg", "Alex Hansen", "Robin Keller", "Noa Weber")


def _say(message: str) -> None:
    print(f"[demo] {message}", flush=True)


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@dataclass
class Program:
    today: date
    events: list[dict[str, Any]] = field(default_factory=list)
    registrations: list[DomainRegisteredV1] = field(default_factory=list)
    partners: list[str] = field(default_factory=list)
    ended: list[tuple[str, str]] = field(default_factory=list)  # (partner, client)

    def add(
        self,
        event_id: str,
        type_name: str,
        when: datetime,
        source: str = "product/accounts",
        **data: Any,
    ) -> None:
        self.events.append(upstream_event(event_id, type_name, when, source=source, **data))


def generate(today: date, seed: int = SEED) -> Program:
    """The whole program from the seed: the same seed and day give the same events."""
    rng = random.Random(seed)
    start = today - timedelta(days=365)
    program = Program(today)
    users: dict[str, list[tuple[str, str]]] = {}
    strength: dict[str, float] = {}
    for n in range(1, PARTNERS + 1):
        partner = f"p-{n:03d}"
        domain = f"{rng.choice(WORDS).lower()}-partners-{n}.example"
        program.partners.append(partner)
        # A spread of strengths gives a spread of tiers, from untiered to elite.
        strength[partner] = (n / PARTNERS) ** 3
        registered = at(start - timedelta(days=rng.randint(30, 900)))
        program.add(
            f"{partner}-registered",
            "partner.registered",
            registered,
            partner_id=partner,
            name=f"{rng.choice(WORDS)} {rng.choice(TRADES)} Partners",
            partner_type=TYPES[n % len(TYPES)],
            employee_email_domain=domain,
            country=rng.choice(list(COUNTRIES)),
        )
        program.add(
            f"{partner}-certified",
            "partner.certification_changed",
            registered,
            partner_id=partner,
            certified=rng.random() < 0.85,
        )
        staff = []
        for u in range(rng.randint(2, 6)):
            employee = u == 0 or rng.random() < 0.75
            email = f"user{u}@{domain}" if employee else f"contractor{n}-{u}@freelance.example"
            user = f"{partner}-u{u}"
            staff.append((user, email))
            program.add(
                f"{user}-added",
                "partner_user.added",
                registered,
                partner_id=partner,
                user_id=user,
                email=email,
                partner_employee=employee,
            )
        users[partner] = staff
        manager = PEOPLE[n % len(PEOPLE)]
        program.add(
            f"{partner}-pdm",
            "partner.team_assigned",
            registered,
            partner_id=partner,
            role="partner_development_manager",
            name=manager,
            email=f"{manager.split()[0].lower()}@vendor.example",
            description="Growth plans, tier questions and co-selling",
        )
    weights = [0.3 + 3 * strength[p] for p in program.partners]
    for n in range(1, CLIENTS + 1):
        client = f"c-{n:04d}"
        partner = rng.choices(program.partners, weights)[0]
        country = rng.choice(list(COUNTRIES))
        currency = COUNTRIES[country]
        name = f"{rng.choice(WORDS)} {rng.choice(TRADES)}"
        domain = f"{name.lower().replace(' ', '-')}-{n}.com"
        created = start + timedelta(days=rng.randint(0, 200))
        mrr = round(rng.uniform(1, 40) * UNIT[currency], 2)
        program.add(
            f"{client}-created",
            "client.created",
            at(created),
            client_id=client,
            name=name,
            website_domain=domain,
            country=country,
            currency=currency,
        )
        program.add(
            f"{client}-subscription",
            "client.subscription_changed",
            at(created),
            client_id=client,
            mrr=str(mrr),
            currency=currency,
            products=rng.sample(
                ["marketing_hub", "sales_hub", "service_hub", "cms_hub"], rng.randint(1, 3)
            ),
            contact_tier=f"Marketing contacts {rng.choice([1, 2, 5, 10, 25])},000",
            email_tier=f"Email sends {rng.choice([20, 50, 100, 200])},000/month",
        )
        members = rng.sample(users[partner], min(len(users[partner]), rng.randint(1, 2)))
        for user, _ in members:
            program.add(
                f"{client}-{user}-member",
                "client.user_added",
                at(created),
                client_id=client,
                user_id=user,
            )
        # Some clients stop getting work: their managed credit ends when the window runs out (M6).
        last = today - timedelta(days=rng.choice([0, 0, 0, 20, 45, 90, 200]))
        day, k = created + timedelta(days=rng.randint(1, 20)), 0
        while day <= last:
            user, email = rng.choice(members)
            program.add(
                f"{client}-a{k}",
                "activity.performed",
                at(day, 9),
                source="product/app",
                user_id=user,
                user_email=email,
                client_id=client,
                tool=ACTIONS[k % len(ACTIONS)].split(".")[0],
                action=ACTIONS[k % len(ACTIONS)],
            )
            day, k = day + timedelta(days=rng.randint(15, 40)), k + 1
        if rng.random() < 0.5:
            program.add(
                f"{client}-score",
                "client.engagement_scored",
                at(last),
                client_id=client,
                score=rng.randint(0, 10),
            )
        else:
            program.add(
                f"{client}-apps",
                "client.apps_used",
                at(last),
                client_id=client,
                apps=rng.sample(APPS, rng.randint(0, 8)),
            )
        if rng.random() < 0.45:
            renewal = today + timedelta(days=rng.randint(5, 150))
            terms = {"products": ["marketing_hub"], "mrr": str(mrr), "currency": currency}
            program.add(
                f"{client}-renewal-{renewal}",
                "client.renewal_scheduled",
                at(today - timedelta(days=30)),
                client_id=client,
                renewal_date=renewal.isoformat(),
                decision_deadline=(renewal - timedelta(days=14)).isoformat(),
                communication_owner={"name": f"{name} Owner", "email": f"owner@{domain}"},
                renewal_manager={"name": rng.choice(PEOPLE), "email": "renewals@vendor.example"},
                current_subscription=terms,
                renewal_subscription={**terms, "mrr": str(round(mrr * 1.1, 2))},
            )
        if rng.random() < 0.25 + 0.5 * strength[partner]:
            closed = created + timedelta(days=rng.randint(10, 150))
            program.registrations.append(
                DomainRegisteredV1(
                    registration_id=f"demo-r-{client}",
                    partner_id=partner,
                    domain=domain,
                    company=name,
                    country=country,
                    registered_at=at(closed - timedelta(days=7)),
                )
            )
            program.events.append(
                deal_event(  # a new marketing_hub deal
                    f"{client}-deal",
                    at(closed),
                    source="product/accounts",
                    deal_id=f"d-{client}",
                    partner_id=partner,
                    client_id=client,
                    client_domain=domain,
                    client_country=country,
                    currency=currency,
                    deal_type="sourced" if rng.random() < 0.8 else "assisted",
                    mrr_delta=str(round(rng.uniform(3, 30) * UNIT[currency], 2)),
                )
            )
        if n % 400 == 0:  # a few removals: a user leaves the client's account
            user, _ = members[0]
            program.add(
                f"{client}-{user}-removed",
                "client.user_removed",
                at(today - timedelta(days=10)),
                client_id=client,
                user_id=user,
            )
        if n % 500 == 250:
            program.ended.append((partner, client))
    return program


def _call(method: str, url: str, token: str, body: Any = None, kind: str = "") -> Any:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": kind or "application/json"}
    content = None if body is None else json.dumps(body).encode()
    answer = httpx.request(method, url, content=content, headers=headers, timeout=120)
    answer.raise_for_status()
    return answer.json() if answer.content else None


def _batches(events: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for first in range(0, len(events), BATCH):
        yield events[first : first + BATCH]


async def _publish_registrations(program: Program) -> None:
    servers = os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or (
        (ROOT / ".local" / "kafka-servers").read_text().strip()
    )
    kafka = KafkaSettings(bootstrap_servers=servers, enable_idempotence=False)
    messages = []
    for registered in program.registrations:
        envelope: CloudEvent = EVENTS.envelope(
            "domain.registered",
            registered,
            id=registered.registration_id,
            source="capacity",
            time=registered.registered_at,
        )
        parsed = EVENTS.parse(envelope)
        messages.append(Message(parsed.spec.topic, parsed.key, envelope.to_json()))
    await publish(kafka, messages)


def _closed_months(today: date) -> list[str]:
    """The months whose rollup day (the 15th, T3) has passed, over the program's year."""
    months = []
    for back in range(12, -1, -1):
        month = date(today.year, today.month, 1) - timedelta(days=back * 28)
        day = date(month.year, month.month, 15)
        text = f"{day.year:04d}-{day.month:02d}"
        if day < today and text not in months:
            months.append(text)
    return months


def _settled(token: str, partners: list[str], today: date) -> None:
    """Wait until the portal's client counts stop changing: every worker has caught up."""
    previous, steady = -1, 0
    while steady < 3:
        total = sum(
            _call("GET", f"{PORTAL}/v1/partners/{p}/clients?page_size=1&as_of={today}", token)[
                "total"
            ]
            for p in partners
        )
        steady = steady + 1 if total == previous else 0
        previous = total
        _say(f"waiting for the services to catch up: {total:,} client relationships")
        time.sleep(2)


def main() -> int:
    token_path = ROOT / ".local" / "dev-token"
    if not token_path.exists():
        _say("no .local/dev-token: start the stack with `make run` first")
        return 1
    token = token_path.read_text().strip()
    today = datetime.now(UTC).date()
    program = generate(today)
    _say(f"{len(program.partners)} partners, {CLIENTS:,} clients, {len(program.events):,} events")
    asyncio.run(_publish_registrations(program))
    _say(f"{len(program.registrations):,} registrations of the year on capacity's topic")
    posted = 0
    for batch in _batches(program.events):
        answer = _call(
            "POST", f"{INGEST}/v1/events", token, batch, "application/cloudevents-batch+json"
        )
        posted += len(batch)
        _say(f"posted {posted:,}/{len(program.events):,} ({answer['accepted']:,} new in batch)")
    _settled(token, program.partners, today)
    for partner, client in program.ended:
        detail = _call("GET", f"{PORTAL}/v1/partners/{partner}/clients/{client}", token)
        if detail["relationship"] in ("managed", "both"):  # not yet ended (a rerun adds nothing)
            _call("POST", f"{LEDGER}/v1/partners/{partner}/clients/{client}/end-services", token)
            _say(f"{partner} ended its services for {client}")
    for month in _closed_months(today):
        run = _call("POST", f"{TIER}/v1/rollups", token, {"month": month})
        _say(f"rollup {month}: revision {run['revision']}, tiers {run['tier_counts']}")
    by_tier: dict[str, str] = {}
    for partner in program.partners:
        try:
            tier = _call("GET", f"{TIER}/v1/partners/{partner}/tier", token)["tier"] or "none"
        except httpx.HTTPStatusError:
            continue
        by_tier.setdefault(tier, partner)
    _say("open the dashboard (local sign-in, one partner per tier):")
    for tier, partner in sorted(by_tier.items()):
        _say(f"  {tier:>9}: {PORTAL}/sign-in?partner_id={partner}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
