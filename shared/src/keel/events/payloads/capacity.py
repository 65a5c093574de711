"""Capacity family, topic `capacity.events.v1`, keyed by partner id: produced by capacity (C-rules),
read by the tier engine for S3 (a deal earns sold credit only under an active registration)."""

from pydantic import AwareDatetime, Field

from keel.events.payloads.common import Country, Domain, Identifier, Name, Payload


class DomainRegisteredV1(Payload):
    """`domain.registered`: from `registered_at` the partner holds the domain (C1-C3)."""

    registration_id: Identifier
    partner_id: Identifier
    domain: Domain = Field(description="The registrable domain, normalised (C1)")
    company: Name
    country: Country
    registered_at: AwareDatetime
    expires_at: AwareDatetime | None = Field(
        default=None, description="When the registration expires by itself (C4), if it does"
    )


class DomainRegistrationEndedV1(Payload):
    """`domain.deregistered` (C5) and `domain.expired` (C4): from `ended_at` the partner no
    longer holds the domain."""

    registration_id: Identifier
    partner_id: Identifier
    domain: Domain
    ended_at: AwareDatetime
