"""The event catalogue: every type's example is valid, and the field rules of ingestion hold."""

from datetime import UTC, datetime
from typing import Any

import pytest

from keel.events.catalogue import EVENTS, UPSTREAM_EVENTS
from keel.events.envelope import CloudEvent
from keel.events.registry import EventRejected


def test_upstream_producers_may_send_exactly_the_upstream_types() -> None:
    registered = sorted(spec.name for spec in UPSTREAM_EVENTS)
    assert registered == sorted(
        [
            "activity.performed",
            "partner.registered",
            "partner.employee_domain_changed",
            "partner.certification_changed",
            "partner_user.added",
            "partner_user.deactivated",
            "partner_user.reactivated",
            "partner_user.removed",
            "client.created",
            "client.updated",
            "client.subscription_changed",
            "client.user_added",
            "client.user_removed",
            "client.apps_used",
            "client.renewal_scheduled",
            "client.renewal_decided",
            "client.engagement_scored",
            "partner.team_assigned",
            "partner.team_unassigned",
            "deal.closed",
        ]
    )


@pytest.mark.parametrize("spec", list(EVENTS), ids=lambda spec: spec.name)
def test_each_example_round_trips_through_an_envelope(spec: Any) -> None:
    envelope = EVENTS.envelope(
        spec.name, spec.example, id="x", source="s", time=datetime(2025, 1, 1, tzinfo=UTC)
    )
    event = EVENTS.parse(CloudEvent.from_json(envelope.to_json()))
    assert event.payload == spec.example
    assert event.spec is spec
    assert spec.json_schema()["type"] == "object"


def reject(type_name: str, **changes: Any) -> list[tuple[str, str]]:
    spec = next(s for s in EVENTS if s.name == type_name)
    data = spec.example.model_dump(mode="json") | changes
    envelope = CloudEvent(
        specversion="1.0",
        id="x",
        source="s",
        type=type_name,
        time=datetime(2025, 1, 1, tzinfo=UTC),
        data=data,
    )
    with pytest.raises(EventRejected) as rejected:
        EVENTS.parse(envelope)
    return [(error.field, error.reason) for error in rejected.value.errors]


@pytest.mark.parametrize("currency", ["EURO", "eur", "ABC", ""])
def test_a_bad_currency_code_is_rejected_naming_the_field(currency: str) -> None:
    [(field, _)] = reject("client.subscription_changed", currency=currency)
    assert field == "data.currency"


@pytest.mark.parametrize("country", ["XX", "de", "DEU"])
def test_a_bad_country_code_is_rejected_naming_the_field(country: str) -> None:
    [(field, _)] = reject("client.created", country=country)
    assert field == "data.country"


def test_a_negative_subscription_mrr_is_rejected() -> None:
    [(field, reason)] = reject("client.subscription_changed", mrr="-1.00")
    assert field == "data.mrr"
    assert "greater than or equal to 0" in reason


def test_mrr_is_decimal_not_float() -> None:
    spec = next(s for s in EVENTS if s.name == "client.subscription_changed")
    data = spec.example.model_dump(mode="json") | {"mrr": "1234.5678901234"}
    assert data["mrr"] == "1234.5678901234"
    payload = spec.payload.model_validate(data)
    assert str(payload.mrr) == "1234.5678901234"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("kind", "delta"), [("churn", "100"), ("downgrade", "0"), ("new", "-5"), ("upsell", "0")]
)
def test_s1_a_deal_delta_must_carry_the_sign_of_its_kind(kind: str, delta: str) -> None:
    [(field, reason)] = reject("deal.closed", kind=kind, mrr_delta=delta)
    assert field == "data.mrr_delta"
    assert "S1" in reason


@pytest.mark.parametrize(
    ("domain", "why"),
    [
        ("x.example", "no public suffix"),
        ("co.uk", "is a public suffix"),
        ("intranet.local", "no public suffix"),
    ],
)
@pytest.mark.parametrize(
    ("type_name", "field"), [("deal.closed", "client_domain"), ("client.created", "website_domain")]
)
def test_a_client_domain_that_is_not_registrable_is_rejected_naming_the_field(
    type_name: str, field: str, domain: str, why: str
) -> None:
    """Issue 12, point 4: C1/S3 could never match it downstream, so the door refuses it."""
    [(where, reason)] = reject(type_name, **{field: domain})
    assert where == f"data.{field}"
    assert why in reason


@pytest.mark.parametrize("domain", ["www.client-one.com", "shop.baeckerei-schmidt.co.uk"])
def test_a_client_domain_with_subdomains_is_accepted_as_given(domain: str) -> None:
    spec = next(s for s in EVENTS if s.name == "deal.closed")
    data = spec.example.model_dump(mode="json") | {"client_domain": domain}
    assert spec.payload.model_validate(data).client_domain == domain  # type: ignore[attr-defined]


def test_unknown_payload_fields_are_rejected() -> None:
    [(field, _)] = reject("partner.certification_changed", certifed=True)
    assert field == "data.certifed"


def test_emails_and_domains_are_kept_lower_case() -> None:
    spec = next(s for s in EVENTS if s.name == "partner.registered")
    data = spec.example.model_dump(mode="json") | {"employee_email_domain": "Agency.EXAMPLE"}
    assert spec.payload.model_validate(data).employee_email_domain == "agency.example"  # type: ignore[attr-defined]
    user = next(s for s in EVENTS if s.name == "partner_user.added")
    data = user.example.model_dump(mode="json") | {"email": "Ana@Agency.Example"}
    assert user.payload.model_validate(data).email == "ana@agency.example"  # type: ignore[attr-defined]


@pytest.mark.parametrize("email", ["nope", "a@b", "a b@agency.example", "a@@agency.example"])
def test_malformed_emails_are_rejected(email: str) -> None:
    [(field, _)] = reject("partner_user.added", email=email)
    assert field == "data.email"


def test_internal_types_are_not_accepted_from_upstream() -> None:
    for internal in (
        "managed_credit.changed",
        "tier.changed",
        "rollup.completed",
        "domain.registered",
        "domain.expired",
    ):
        assert internal in {spec.name for spec in EVENTS}
        assert internal not in {spec.name for spec in UPSTREAM_EVENTS}


def test_a_subscription_change_without_the_new_tiers_still_parses_as_v1() -> None:
    """Additive within v1: producers that never send contact_tier or email_tier keep working."""
    envelope = CloudEvent(
        specversion="1.0",
        id="x",
        source="s",
        type="client.subscription_changed",
        time=datetime(2025, 1, 1, tzinfo=UTC),
        data={"client_id": "c-1", "mrr": "10", "currency": "EUR"},
    )
    payload = EVENTS.parse(envelope).payload
    assert (payload.contact_tier, payload.email_tier) == (None, None)


def test_a_renewal_whose_deadline_is_after_its_date_is_rejected() -> None:
    [(field, _)] = reject("client.renewal_scheduled", decision_deadline="2025-10-01")
    assert field == "data"


def test_an_engagement_score_above_ten_is_rejected_naming_the_field() -> None:
    [(field, _)] = reject("client.engagement_scored", score=11)
    assert field == "data.score"
