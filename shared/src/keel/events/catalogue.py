"""The event catalogue: every type the system speaks, with its payload model, topic, key and an
example. `GET /v1/event-types` is generated from here, so there is one source of truth."""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from keel.events import topics
from keel.events.payloads.account import (
    ClientAppsUsedV1,
    ClientEngagementScoredV1,
    ClientRenewalDecidedV1,
    ClientRenewalScheduledV1,
    ClientSubscriptionChangedV1,
    ClientUserV1,
    ClientV1,
    PartnerCertificationChangedV1,
    PartnerEmployeeDomainChangedV1,
    PartnerRegisteredV1,
    PartnerTeamAssignedV1,
    PartnerTeamUnassignedV1,
    PartnerType,
    PartnerUserAddedV1,
    PartnerUserChangedV1,
    Person,
    RenewalOutcome,
    SubscriptionTerms,
)
from keel.events.payloads.activity import ActivityPerformedV1
from keel.events.payloads.capacity import DomainRegisteredV1, DomainRegistrationEndedV1
from keel.events.payloads.credit import ManagedCreditChangedV1
from keel.events.payloads.deal import DealClosedV1, DealKind, DealType
from keel.events.payloads.tier import RollupCompletedV1, Tier, TierChangedV1
from keel.events.registry import EventRegistry, EventType

ACCOUNT = topics.ACCOUNT.name

# Every event type by name: code names a type by its constant, never by a bare string.
ACTIVITY_PERFORMED = "activity.performed"
PARTNER_REGISTERED = "partner.registered"
PARTNER_EMPLOYEE_DOMAIN_CHANGED = "partner.employee_domain_changed"
PARTNER_CERTIFICATION_CHANGED = "partner.certification_changed"
PARTNER_USER_ADDED = "partner_user.added"
PARTNER_USER_DEACTIVATED = "partner_user.deactivated"
PARTNER_USER_REACTIVATED = "partner_user.reactivated"
PARTNER_USER_REMOVED = "partner_user.removed"
CLIENT_CREATED = "client.created"
CLIENT_UPDATED = "client.updated"
CLIENT_SUBSCRIPTION_CHANGED = "client.subscription_changed"
CLIENT_USER_ADDED = "client.user_added"
CLIENT_USER_REMOVED = "client.user_removed"
CLIENT_APPS_USED = "client.apps_used"
CLIENT_RENEWAL_SCHEDULED = "client.renewal_scheduled"
CLIENT_RENEWAL_DECIDED = "client.renewal_decided"
CLIENT_ENGAGEMENT_SCORED = "client.engagement_scored"
PARTNER_TEAM_ASSIGNED = "partner.team_assigned"
PARTNER_TEAM_UNASSIGNED = "partner.team_unassigned"
DEAL_CLOSED = "deal.closed"
MANAGED_CREDIT_CHANGED = "managed_credit.changed"
TIER_CHANGED = "tier.changed"
ROLLUP_COMPLETED = "rollup.completed"
DOMAIN_REGISTERED = "domain.registered"
DOMAIN_DEREGISTERED = "domain.deregistered"
DOMAIN_EXPIRED = "domain.expired"


def _v1(name: str, *, key: str, example: BaseModel, topic: str = ACCOUNT) -> EventType[Any]:
    """Version 1 of `name`, whose payload model is its example's own class."""
    return EventType(
        name=name, version=1, payload=type(example), topic=topic, key=key, example=example
    )


_client = ClientV1(
    client_id="c-2001",
    name="Bäckerei Schmidt GmbH",
    website_domain="baeckerei-schmidt.de",
    country="DE",
    currency="EUR",
)
_partner_user = PartnerUserChangedV1(partner_id="p-501", user_id="u-1001")
_membership = ClientUserV1(client_id="c-2001", user_id="u-1001")

UPSTREAM_TYPES: list[EventType[Any]] = [
    _v1(
        ACTIVITY_PERFORMED,
        key="client_id",
        topic=topics.ACTIVITY.name,
        example=ActivityPerformedV1(
            user_id="u-1001",
            user_email="ana@agency.example",
            client_id="c-2001",
            tool="blog",
            action="blog.post_published",
            asset_id="post-77",
        ),
    ),
    _v1(
        PARTNER_REGISTERED,
        key="partner_id",
        example=PartnerRegisteredV1(
            partner_id="p-501",
            name="Agency Example Ltd",
            partner_type=PartnerType.SOLUTIONS,
            employee_email_domain="agency.example",
            country="GB",
        ),
    ),
    _v1(
        PARTNER_EMPLOYEE_DOMAIN_CHANGED,
        key="partner_id",
        example=PartnerEmployeeDomainChangedV1(
            partner_id="p-501", employee_email_domain="agency-group.example"
        ),
    ),
    _v1(
        PARTNER_CERTIFICATION_CHANGED,
        key="partner_id",
        example=PartnerCertificationChangedV1(partner_id="p-501", certified=True),
    ),
    _v1(
        PARTNER_USER_ADDED,
        key="partner_id",
        example=PartnerUserAddedV1(
            partner_id="p-501",
            user_id="u-1001",
            email="ana@agency.example",
            partner_employee=True,
        ),
    ),
    *(
        _v1(change, key="partner_id", example=_partner_user)
        for change in (PARTNER_USER_DEACTIVATED, PARTNER_USER_REACTIVATED, PARTNER_USER_REMOVED)
    ),
    *(_v1(change, key="client_id", example=_client) for change in (CLIENT_CREATED, CLIENT_UPDATED)),
    _v1(
        CLIENT_SUBSCRIPTION_CHANGED,
        key="client_id",
        example=ClientSubscriptionChangedV1(
            client_id="c-2001",
            mrr=Decimal("1250.00"),
            currency="EUR",
            products=["marketing_hub_pro", "sales_hub_starter"],
            contact_tier="Marketing contacts 10,000",
            email_tier="Email sends 200,000/month",
        ),
    ),
    *(
        _v1(change, key="client_id", example=_membership)
        for change in (CLIENT_USER_ADDED, CLIENT_USER_REMOVED)
    ),
    _v1(
        CLIENT_APPS_USED,
        key="client_id",
        example=ClientAppsUsedV1(client_id="c-2001", apps=["crm", "email", "workflows"]),
    ),
    _v1(
        CLIENT_RENEWAL_SCHEDULED,
        key="client_id",
        example=ClientRenewalScheduledV1(
            client_id="c-2001",
            renewal_date=date(2025, 9, 1),
            decision_deadline=date(2025, 8, 1),
            communication_owner=Person(name="Jana Schmidt", email="jana@baeckerei-schmidt.de"),
            renewal_manager=Person(name="Sam Vendor", email="sam@vendor-example.com"),
            current_subscription=SubscriptionTerms(
                products=["marketing_hub_pro"], mrr=Decimal("1250.00"), currency="EUR"
            ),
            renewal_subscription=SubscriptionTerms(
                products=["marketing_hub_pro", "sales_hub_starter"],
                mrr=Decimal("1400.00"),
                currency="EUR",
            ),
        ),
    ),
    _v1(
        CLIENT_RENEWAL_DECIDED,
        key="client_id",
        example=ClientRenewalDecidedV1(
            client_id="c-2001", renewal_date=date(2025, 9, 1), outcome=RenewalOutcome.RENEWED
        ),
    ),
    _v1(
        CLIENT_ENGAGEMENT_SCORED,
        key="client_id",
        example=ClientEngagementScoredV1(client_id="c-2001", score=7),
    ),
    _v1(
        PARTNER_TEAM_ASSIGNED,
        key="partner_id",
        example=PartnerTeamAssignedV1(
            partner_id="p-501",
            role="partner_development_manager",
            name="Robin Vendor",
            email="robin@vendor-example.com",
            description="Your partner development manager: growth plans and programme questions",
        ),
    ),
    _v1(
        PARTNER_TEAM_UNASSIGNED,
        key="partner_id",
        example=PartnerTeamUnassignedV1(
            partner_id="p-501", role="partner_development_manager", email="robin@vendor-example.com"
        ),
    ),
    _v1(
        DEAL_CLOSED,
        key="partner_id",
        topic=topics.DEAL.name,
        example=DealClosedV1(
            deal_id="d-9001",
            partner_id="p-501",
            client_id="c-2001",
            client_domain="baeckerei-schmidt.de",
            client_country="DE",
            currency="EUR",
            deal_type=DealType.SOURCED,
            product_line="marketing_hub",
            kind=DealKind.NEW,
            mrr_delta=Decimal("800.00"),
        ),
    ),
]

# What upstream producers may send (activity-ingest accepts these and only these).
UPSTREAM_EVENTS = EventRegistry(UPSTREAM_TYPES)

INTERNAL_TYPES: list[EventType[Any]] = [
    _v1(
        MANAGED_CREDIT_CHANGED,
        key="partner_id",
        topic=topics.CREDIT.name,
        example=ManagedCreditChangedV1(
            partner_id="p-501",
            client_id="c-2001",
            effective_on=date(2025, 3, 14),
            amount=Decimal("625.00"),
            currency="EUR",
            denominator=2,
            client_country="DE",
            rule="M7",
            cause=["product/blog/evt-0001"],
            recorded_at=datetime(2025, 3, 14, 9, 30, 2, tzinfo=UTC),
        ),
    ),
    _v1(
        TIER_CHANGED,
        key="partner_id",
        topic=topics.TIER.name,
        example=TierChangedV1(
            partner_id="p-501",
            month="2025-03",
            revision=1,
            tier=Tier.GOLD,
            previous_tier=Tier.PARTNER,
            partner_type=PartnerType.SOLUTIONS,
            model="points-2022",
            evaluated_on=date(2025, 3, 15),
        ),
    ),
    _v1(
        ROLLUP_COMPLETED,
        key="month",
        topic=topics.TIER.name,
        example=RollupCompletedV1(
            month="2025-03",
            revision=1,
            digest="9f2c6a0e" * 8,
            evaluated_on=date(2025, 3, 15),
            partners=1200,
            tier_counts={"partner": 900, "gold": 200, "platinum": 80, "diamond": 15, "elite": 5},
        ),
    ),
    _v1(
        DOMAIN_REGISTERED,
        key="partner_id",
        topic=topics.CAPACITY.name,
        example=DomainRegisteredV1(
            registration_id="r-7001",
            partner_id="p-501",
            domain="baeckerei-schmidt.de",
            company="Bäckerei Schmidt GmbH",
            country="DE",
            registered_at=datetime(2025, 3, 2, 10, 0, tzinfo=UTC),
        ),
    ),
    *(
        _v1(
            ending,
            key="partner_id",
            topic=topics.CAPACITY.name,
            example=DomainRegistrationEndedV1(
                registration_id="r-7001",
                partner_id="p-501",
                domain="baeckerei-schmidt.de",
                ended_at=datetime(2025, 5, 31, 0, 0, tzinfo=UTC),
            ),
        )
        for ending in (DOMAIN_DEREGISTERED, DOMAIN_EXPIRED)
    ),
]

# Every type of the system, for consumers.
EVENTS = EventRegistry([*UPSTREAM_TYPES, *INTERNAL_TYPES])

EXAMPLE_TIME = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)


def example_envelope(spec: EventType[Any]) -> dict[str, Any]:
    """A complete CloudEvent around `spec`'s example, as `GET /v1/event-types` and the AsyncAPI
    document show it."""
    return EVENTS.envelope(
        spec.name,
        spec.example,
        id=f"example-{spec.name}",
        source="product/example",
        time=EXAMPLE_TIME,
    ).model_dump(mode="json", exclude_none=True)
