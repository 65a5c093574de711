"""HTTP request and response models of capacity (never table classes)."""

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from keel.domains import registrable_domain
from keel.events.payloads.account import PartnerType
from keel.events.payloads.common import Country, Name
from keel.events.payloads.tier import Tier


def _registrable(text: str) -> str:
    registrable_domain(text)  # C1: raises NotADomain (a ValueError) saying why
    return text


Website = Annotated[
    str,
    StringConstraints(max_length=2048),
    AfterValidator(_registrable),
    Field(
        description="A website or URL as people type it; its registrable domain is registered",
        examples=["https://www.example.co.uk/pricing"],
    ),
]


class RegistrationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    website: Website
    company: Name
    contact_name: Name
    country: Country

    @property
    def domain(self) -> str:
        """C1: the registrable domain of the website, normalised."""
        return registrable_domain(self.website)


class RegistrationStatus(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    DEREGISTERED = "deregistered"


class RegistrationRead(BaseModel):
    id: str
    partner_id: str
    domain: str = Field(description="The registrable domain (C1); never changes")
    website: str = Field(description="As it was typed at registration")
    company: str
    contact_name: str
    country: str
    status: RegistrationStatus
    registered_at: datetime
    expires_at: datetime | None = Field(description="C4: when it expires by itself, if it does")
    ended_at: datetime | None


class SortField(StrEnum):
    DOMAIN = "domain"
    COMPANY = "company"
    CONTACT_NAME = "contact_name"
    COUNTRY = "country"
    REGISTERED_AT = "registered_at"


class RegistrationQuery(BaseModel):
    """C7: a case-insensitive substring over domain, company, contact name and country; a sort;
    a page. Active registrations unless `status` says otherwise."""

    model_config = ConfigDict(extra="forbid")

    q: str | None = Field(default=None, max_length=200)
    status: RegistrationStatus | Literal["all"] = RegistrationStatus.ACTIVE
    sort: SortField = SortField.REGISTERED_AT
    order: Literal["asc", "desc"] = "asc"
    # Bounded so that the offset (page x page_size) fits the database's bigint.
    page: int = Field(default=1, ge=1, le=1_000_000)
    page_size: int = Field(default=50, ge=1, le=500)


class RegistrationPage(BaseModel):
    partner_id: str
    items: list[RegistrationRead]
    page: int
    page_size: int
    total: int


class Deregistration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    domains: list[Website] = Field(
        min_length=1, max_length=1000, description="Domains or websites, normalised as in C1"
    )
    confirm: Literal[True] = Field(description="Must be true: deregistration cannot be undone")


class DeregistrationRead(BaseModel):
    partner_id: str
    deregistered: list[RegistrationRead] = Field(description="Freed at once (C5)")
    not_found: list[str] = Field(description="Held by no active registration of this partner")


class CapacityRead(BaseModel):
    partner_id: str
    tier: Tier | None = Field(description="null: untiered until a tier event arrives, or provider")
    partner_type: PartnerType
    limit: int
    used: int = Field(description="Active registrations now")
    available: int
    over_limit: bool = Field(description="C6: more active registrations than the limit")
    policy_version: str


class DomainRegistrationRead(BaseModel):
    domain: str
    partner_id: str = Field(description="The holder (or the last holder, when none is active)")
    registration_id: str
    status: RegistrationStatus
    registered_at: datetime
    expires_at: datetime | None
    ended_at: datetime | None


class CapacityVersionRead(BaseModel):
    version: str
    effective_from: date
    note: str
    tier_limits: dict[Tier, int]
    partner_type_limits: dict[PartnerType, int]
    expiry_days: dict[PartnerType, int]
    reserved_domains: list[str]


class PoliciesRead(BaseModel):
    capacity: list[CapacityVersionRead]
