"""Sample events as upstream producers send them (JSON-ready dicts), for tests and benchmarks, and
events as Kafka messages for the tests that put them on a topic themselves."""

from datetime import datetime
from itertools import count
from typing import Any

from pydantic import BaseModel

from keel.events.catalogue import (
    ACTIVITY_PERFORMED,
    CLIENT_CREATED,
    CLIENT_SUBSCRIPTION_CHANGED,
    CLIENT_USER_ADDED,
    DEAL_CLOSED,
    EVENTS,
    PARTNER_REGISTERED,
    PARTNER_USER_ADDED,
)
from keel.events.payloads.account import PartnerRegisteredV1, PartnerType
from keel.kafka.publisher import Message

_numbered = count(1)


def produced(type_name: str, payload: BaseModel, when: datetime, event_id: str = "") -> Message:
    """`payload` as the Kafka message its producer puts on the topic: from source `test`, with
    `event_id` or else the next `ev-N`."""
    event_id = event_id or f"ev-{next(_numbered)}"
    return EVENTS.message(type_name, payload, id=event_id, source="test", time=when)


def partner_registered(
    partner_id: str,
    when: datetime,
    *,
    partner_type: PartnerType = PartnerType.SOLUTIONS,
    employee_email_domain: str = "",
) -> Message:
    """`partner.registered` as a message; its employees' domain `<partner_id>.example` unless
    given."""
    return produced(
        PARTNER_REGISTERED,
        PartnerRegisteredV1(
            partner_id=partner_id,
            name=partner_id,
            partner_type=partner_type,
            employee_email_domain=employee_email_domain or f"{partner_id}.example",
            country="GB",
        ),
        when,
    )


def upstream_event(
    event_id: str,
    type_name: str,
    time: datetime | str,
    *,
    source: str = "product/accounts",
    **data: Any,
) -> dict[str, Any]:
    """A CloudEvent of any type as an upstream producer posts it; `data` fields that are None are
    left out."""
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": source,
        "type": type_name,
        "time": time if isinstance(time, str) else time.isoformat(),
        "data": {name: value for name, value in data.items() if value is not None},
    }


def activity_event(
    event_id: str, time: datetime | str, *, source: str = "product/blog", **data: Any
) -> dict[str, Any]:
    """An `activity.performed` CloudEvent; `data` overrides (or, with None, removes) fields."""
    payload: dict[str, Any] = {
        "user_id": "u-1",
        "user_email": "ana@agency.example",
        "client_id": "c-1",
        "tool": "blog",
        "action": "blog.post_published",
    }
    payload.update(data)
    return upstream_event(event_id, ACTIVITY_PERFORMED, time, source=source, **payload)


def deal_event(
    event_id: str, time: datetime | str, *, source: str = "product/crm", **data: Any
) -> dict[str, Any]:
    """A `deal.closed` CloudEvent: a new sourced deal of $100 MRR by p-1 for c-1, its `deal_id`
    the event id; `data` overrides (or, with None, removes) fields."""
    payload: dict[str, Any] = {
        "deal_id": event_id,
        "partner_id": "p-1",
        "client_id": "c-1",
        "client_domain": "client-one.com",
        "client_country": "US",
        "currency": "USD",
        "deal_type": "sourced",
        "product_line": "marketing_hub",
        "kind": "new",
        "mrr_delta": "100",
    }
    payload.update(data)
    return upstream_event(event_id, DEAL_CLOSED, time, source=source, **payload)


def partner_event(number: int, day: str = "2024-03-01") -> dict[str, Any]:
    """`partner.registered` for partner p-<number> (solutions, GB, employee domain
    partner<number>.example), event id p<number>, at 10:00 UTC of the ISO day."""
    return upstream_event(
        f"p{number}",
        PARTNER_REGISTERED,
        f"{day}T10:00:00Z",
        partner_id=f"p-{number}",
        name=f"Partner {number}",
        partner_type="solutions",
        employee_email_domain=f"partner{number}.example",
        country="GB",
    )


def managed_client_events(
    partner_on: str, client_on: str, *, mrr: str, partner_country: str = "US"
) -> list[dict[str, Any]]:
    """Upstream events, each at 10:00 UTC of its ISO day: partner p-1 (Alpha, solutions, employee
    domain alpha.example) and its employee u-1 (ana@alpha.example) from `partner_on`; client c-1
    (client-one.com, US, USD) paying `mrr` with u-1 as a member from `client_on`."""

    def at(day: str) -> str:
        return f"{day}T10:00:00Z"

    return [
        upstream_event(
            "p1",
            PARTNER_REGISTERED,
            at(partner_on),
            partner_id="p-1",
            name="Alpha",
            partner_type="solutions",
            employee_email_domain="alpha.example",
            country=partner_country,
        ),
        upstream_event(
            "u1",
            PARTNER_USER_ADDED,
            at(partner_on),
            partner_id="p-1",
            user_id="u-1",
            email="ana@alpha.example",
            partner_employee=True,
        ),
        upstream_event(
            "c1",
            CLIENT_CREATED,
            at(client_on),
            client_id="c-1",
            name="Client One",
            website_domain="client-one.com",
            country="US",
            currency="USD",
        ),
        upstream_event(
            "s1",
            CLIENT_SUBSCRIPTION_CHANGED,
            at(client_on),
            client_id="c-1",
            mrr=mrr,
            currency="USD",
        ),
        upstream_event("m1", CLIENT_USER_ADDED, at(client_on), client_id="c-1", user_id="u-1"),
    ]
