"""Sample events as upstream producers send them (JSON-ready dicts), for tests and benchmarks."""

from datetime import datetime
from typing import Any


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
    return upstream_event(event_id, "activity.performed", time, source=source, **payload)


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
    return upstream_event(event_id, "deal.closed", time, source=source, **payload)


def partner_event(number: int, day: str = "2024-03-01") -> dict[str, Any]:
    """`partner.registered` for partner p-<number> (solutions, GB, employee domain
    partner<number>.example), event id p<number>, at 10:00 UTC of the ISO day."""
    return upstream_event(
        f"p{number}",
        "partner.registered",
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
            "partner.registered",
            at(partner_on),
            partner_id="p-1",
            name="Alpha",
            partner_type="solutions",
            employee_email_domain="alpha.example",
            country=partner_country,
        ),
        upstream_event(
            "u1",
            "partner_user.added",
            at(partner_on),
            partner_id="p-1",
            user_id="u-1",
            email="ana@alpha.example",
            partner_employee=True,
        ),
        upstream_event(
            "c1",
            "client.created",
            at(client_on),
            client_id="c-1",
            name="Client One",
            website_domain="client-one.com",
            country="US",
            currency="USD",
        ),
        upstream_event(
            "s1",
            "client.subscription_changed",
            at(client_on),
            client_id="c-1",
            mrr=mrr,
            currency="USD",
        ),
        upstream_event("m1", "client.user_added", at(client_on), client_id="c-1", user_id="u-1"),
    ]
