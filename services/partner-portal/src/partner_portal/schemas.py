"""HTTP request and response models of the partner portal (never table classes). Figures the
portal shows from another service keep that service's values; `sections` says which parts
answered (an unavailable section is null, never a 500)."""

import csv
import io
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from keel.http.schemas import Schema
from keel.money import Amount
from partner_portal.domain.clients import Band, Order, Relationship, Sort

Availability = Literal["ok", "unavailable", "not_found"]


class SectionRead(Schema):
    availability: Availability
    reason: str | None = None


Sections = dict[str, SectionRead]


# What the portal reads from the owners (their answers, the fields it uses; others ignored).
class Upstream(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ReadyAnswer(Upstream):
    status: str


class ManagedClientAnswer(Upstream):
    client_id: str
    credit: Amount
    currency: str
    share_denominator: int


class ManagedCreditAnswer(Upstream):
    clients: list[ManagedClientAnswer]
    next_after: str | None = None  # the ledger pages by client id


class ExpiringClientAnswer(Upstream):
    client_id: str
    ends_on: date
    credit_at_risk: Amount
    currency: str


class ExpiringAnswer(Upstream):
    within_days: int
    clients: list[ExpiringClientAnswer]
    at_risk: dict[str, Amount]


class CapacityAnswer(Upstream):
    limit: int
    used: int
    available: int
    over_limit: bool


class TierAnswer(Upstream):
    month: str
    model: str
    tier: str | None
    certified: bool | None = None
    median_apps: Amount | None = None
    points: dict[str, Amount]


class StepRead(Schema):
    number: int
    name: str
    rule: str
    passed: bool
    evidence: str


class UserStepsAnswer(Upstream):
    user_id: str
    email: str
    steps: list[StepRead]


class AttributionAnswer(Upstream):
    manages: bool
    share: str | None
    share_denominator: int
    credit: Amount
    currency: str | None
    ends_on: date | None
    users: list[UserStepsAnswer]


class BreakdownClientAnswer(Upstream):
    client_id: str
    sold_points: Amount
    managed_points: Amount


class BreakdownAnswer(Upstream):
    month: str
    evaluated_on: date
    clients: list[BreakdownClientAnswer]


class EmployeeClientRead(Upstream):
    client_id: str
    assignment: Literal["automatic", "manual"] | None = Field(description="M4")
    member: bool
    access_removed: bool
    last_qualifying_activity_at: datetime | None


class EmployeeRead(Upstream):
    user_id: str
    email: str
    partner_employee: bool
    status: str
    clients: list[EmployeeClientRead]


class EmployeesAnswer(Upstream):
    employees: list[EmployeeRead]


# The portal's own answers.
class RenewalAlertRead(Schema):
    within_days: int
    count: int = Field(description="Undecided renewals whose decision deadline is this close (D2)")
    clients: list[str]


class CapacityAlertRead(Schema):
    limit: int
    used: int
    percent: Amount
    warning_percent: int
    warning: bool = Field(description="At or over the warning share of the limit")


class AlertsRead(Schema):
    renewal_decisions: RenewalAlertRead
    expiring_credit: ExpiringAnswer | None = Field(description="The ledger's `expiring` (M6)")
    capacity: CapacityAlertRead | None


class DashboardRead(Schema):
    partner_id: str
    as_of: date
    alerts: AlertsRead
    tier: TierAnswer | None = Field(description="The credited tier and points per track (T4)")
    clients_by_relationship: dict[Relationship, int] = Field(description="D1")
    sections: Sections


class ClientsQuery(Schema):
    q: str | None = Field(default=None, max_length=200, description="Part of a name or domain")
    relationship: Relationship | None = None
    sort: Sort = Sort.NAME
    order: Order = Order.ASC
    page: int = Field(default=1, ge=1)
    page_size: int = Field(default=50, ge=1, le=500)
    as_of: date | None = Field(default=None, description="Today (UTC) when absent")


class EngagementRead(Schema):
    score: int
    band: Band
    derived: bool = Field(description="Derived from the apps in use by a `derived` policy (D4)")
    policy_version: str | None


class ClientRowRead(Schema):
    client_id: str
    name: str
    domain: str
    products: list[str]
    relationship: Relationship
    apps: list[str]
    engagement: EngagementRead
    mrr: Amount | None
    currency: str | None
    managed_credit: Amount | None = Field(description="The ledger's figure; null if none")
    managed_currency: str | None
    share: str | None = Field(description="1/N of the MRR when managed (M7)")
    next_renewal_on: date | None


CSV_COLUMNS = (
    "client_id",
    "name",
    "domain",
    "products",
    "relationship",
    "apps",
    "engagement_score",
    "engagement_band",
    "mrr",
    "currency",
    "managed_credit",
    "share",
    "next_renewal_on",
)


class ClientsPage(Schema):
    partner_id: str
    as_of: date
    page: int
    page_size: int
    total: int
    clients: list[ClientRowRead]
    sections: Sections

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for row in self.clients:
            writer.writerow(
                [
                    row.client_id,
                    row.name,
                    row.domain,
                    " ".join(row.products),
                    row.relationship.value,
                    " ".join(row.apps),
                    row.engagement.score,
                    row.engagement.band.value,
                    row.mrr if row.mrr is not None else "",
                    row.currency or "",
                    row.managed_credit if row.managed_credit is not None else "",
                    row.share or "",
                    row.next_renewal_on or "",
                ]
            )
        return out.getvalue()


class CompanyRead(Schema):
    name: str
    domain: str
    country: str
    account_currency: str


class SubscriptionRead(Schema):
    mrr: Amount
    currency: str
    products: list[str]
    contact_tier: str | None
    email_tier: str | None


class PersonRead(Schema):
    name: str
    email: str


class TermsRead(Schema):
    products: list[str]
    mrr: Amount
    currency: str


class RenewalRead(Schema):
    client_id: str
    renewal_date: date
    decision_deadline: date
    communication_owner: PersonRead = Field(description="The client's renewal-communication owner")
    renewal_manager: PersonRead = Field(description="The vendor's renewal manager")
    current_subscription: TermsRead
    renewal_subscription: TermsRead
    outcome: str | None
    decided_at: datetime | None


class RenewalsOfClientRead(Schema):
    current: RenewalRead | None = Field(description="The latest renewal decided")
    next: RenewalRead | None = Field(description="The earliest upcoming renewal (D2)")


class UsageRead(Schema):
    products: list[str]
    apps: list[str]


class LinksRead(Schema):
    crm: str = Field(description="Company in CRM")
    account: str = Field(description="Go to the client's account")


class UserChecklistRead(Schema):
    user_id: str
    email: str
    steps: list[StepRead]
    first_failing_step: int | None
    fix: str | None


class WhyCreditedRead(Schema):
    credited: bool
    share: str | None
    share_denominator: int = Field(description="How many partners share the client (D5)")
    credit: Amount
    currency: str | None
    ends_on: date | None = Field(description="The day credit ends without new activity (M6)")
    users: list[UserChecklistRead]


class ClientDetailRead(Schema):
    partner_id: str
    client_id: str
    as_of: date
    relationship: Relationship | None = Field(description="null: not the partner's client today")
    company: CompanyRead
    subscription: SubscriptionRead | None
    renewals: RenewalsOfClientRead
    usage: UsageRead
    engagement: EngagementRead
    links: LinksRead
    why_credited: WhyCreditedRead | None = Field(description="D3, from the credit-ledger")
    sections: Sections


class RenewalsRead(Schema):
    partner_id: str
    as_of: date
    within_days: int
    renewals: list[RenewalRead]


class TeamMemberRead(Schema):
    role: str
    name: str
    email: str
    description: str | None
    mailto: str


class TeamRead(Schema):
    partner_id: str
    members: list[TeamMemberRead]


class EmployeesRead(Schema):
    partner_id: str
    as_of: date
    employees: list[EmployeeRead]


class PointChangesQuery(Schema):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    start: date = Field(alias="from", description="The first evaluation's day")
    end: date = Field(alias="to", description="The second evaluation's day")


class ClientChangeRead(Schema):
    client_id: str
    before: Amount
    after: Amount
    change: Amount


class ChangeGroupRead(Schema):
    count: int
    points: Amount
    clients: list[ClientChangeRead]


class PointChangesRead(Schema):
    partner_id: str
    start: date = Field(serialization_alias="from")
    end: date = Field(serialization_alias="to")
    months: tuple[str, str] = Field(description="The tier engine's evaluations read (T3)")
    new_sold: ChangeGroupRead
    lost_sold: ChangeGroupRead
    new_managed: ChangeGroupRead
    lost_managed: ChangeGroupRead


class UpstreamsRead(Schema):
    upstreams: Sections = Field(description="Per service, whether its /readyz answers 200")
