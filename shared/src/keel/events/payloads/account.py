"""Account family, topic `account.events.v1`: partner facts keyed by partner id, client facts by
client id."""

from enum import StrEnum

from pydantic import Field

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


class ClientUserV1(Payload):
    """The payload of `client.user_added` / `client.user_removed`: a user's membership."""

    client_id: Identifier
    user_id: Identifier


class ClientAppsUsedV1(Payload):
    client_id: Identifier
    apps: list[Slug] = Field(description="Apps used in the period, e.g. crm, workflows, forms")
