"""Account family, topic `account.events.v1`: partner facts keyed by partner id, client facts by
client id."""

from datetime import date
from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, StringConstraints, model_validator

from keel.events.payloads.common import (
    Country,
    Currency,
    Domain,
    Email,
    Identifier,
    Name,
    NonNegativeAmount,
    Payload,
    Slug,
    WebsiteDomain,
)

# Free text for display, such as a contact or email tier.
Label = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]


class PartnerType(StrEnum):
    SOLUTIONS = "solutions"
    PROVIDER = "provider"
    REFERRAL = "referral"


class PartnerRegisteredV1(Payload):
    partner_id: Identifier
    name: Name
    partner_type: PartnerType
    employee_email_domain: Domain = Field(
        description="The partner's own email domain; its users there are partner employees (M4)"
    )
    country: Country


class PartnerEmployeeDomainChangedV1(Payload):
    partner_id: Identifier
    employee_email_domain: Domain


class PartnerCertificationChangedV1(Payload):
    partner_id: Identifier
    certified: bool


class PartnerUserAddedV1(Payload):
    partner_id: Identifier
    user_id: Identifier
    email: Email
    partner_employee: bool


class PartnerUserChangedV1(Payload):
    """The payload of `partner_user.deactivated`, `.reactivated` and `.removed`."""

    partner_id: Identifier
    user_id: Identifier


class ClientV1(Payload):
    """The payload of `client.created` and `client.updated`: the whole client as it now is."""

    client_id: Identifier
    name: Name
    website_domain: WebsiteDomain
    country: Country
    currency: Currency


class ClientSubscriptionChangedV1(Payload):
    client_id: Identifier
    mrr: NonNegativeAmount = Field(description="Monthly recurring revenue, in `currency`")
    currency: Currency
    products: list[Slug] = Field(default_factory=list)
    # Added within v1 (optional, null by default): what the partner dashboard shows per client.
    contact_tier: Label | None = Field(default=None, examples=["Marketing contacts 10,000"])
    email_tier: Label | None = Field(default=None, examples=["Email sends 200,000/month"])


class ClientUserV1(Payload):
    """The payload of `client.user_added` / `client.user_removed`: a user's membership."""

    client_id: Identifier
    user_id: Identifier


class ClientAppsUsedV1(Payload):
    client_id: Identifier
    apps: list[Slug] = Field(description="Apps used in the period, e.g. crm, workflows, forms")


class Person(Payload):
    name: Name
    email: Email


class SubscriptionTerms(Payload):
    """A subscription as a renewal states it: products, MRR and currency."""

    products: list[Slug] = Field(default_factory=list)
    mrr: NonNegativeAmount
    currency: Currency


class ClientRenewalScheduledV1(Payload):
    """`client.renewal_scheduled`: a renewal decision is upcoming until it is decided (D2)."""

    client_id: Identifier
    renewal_date: date
    decision_deadline: date
    communication_owner: Person = Field(description="The client's person who owns the renewal")
    renewal_manager: Person = Field(description="The vendor's renewal manager")
    current_subscription: SubscriptionTerms
    renewal_subscription: SubscriptionTerms

    @model_validator(mode="after")
    def _deadline_not_after_renewal(self) -> Self:
        if self.decision_deadline > self.renewal_date:
            raise ValueError("decision_deadline must be on or before renewal_date")
        return self


class RenewalOutcome(StrEnum):
    RENEWED = "renewed"
    CHANGED = "changed"
    CANCELLED = "cancelled"


class ClientRenewalDecidedV1(Payload):
    client_id: Identifier
    renewal_date: date
    outcome: RenewalOutcome


class ClientEngagementScoredV1(Payload):
    """An engagement score from upstream (D4); without one the portal derives it from apps."""

    client_id: Identifier
    score: int = Field(ge=0, le=10)


class PartnerTeamAssignedV1(Payload):
    """A vendor person assigned to the partner's team in a role (until unassigned)."""

    partner_id: Identifier
    role: Slug = Field(examples=["partner_development_manager", "channel_account_manager"])
    name: Name
    email: Email
    description: Label | None = None


class PartnerTeamUnassignedV1(Payload):
    partner_id: Identifier
    role: Slug
    email: Email
