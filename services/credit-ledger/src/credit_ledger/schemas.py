"""HTTP request and response models of the credit-ledger (never table classes)."""

from datetime import date, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from keel.money import Amount


class WindowRead(BaseModel):
    version: str
    effective_from: date
    days: int
    note: str


class QualifyingActionsRead(BaseModel):
    version: str
    effective_from: date
    tools: dict[str, list[str]]
    note: str


class PoliciesRead(BaseModel):
    windows: list[WindowRead]
    qualifying_actions: list[QualifyingActionsRead]
    currency_minor_units: dict[str, int] = Field(description="Where not 2 (M7 splits to these)")


class CountingActivityRead(BaseModel):
    event_id: str
    user_id: str
    action: str
    occurred_at: datetime
    expires_on: date = Field(description="The first day it no longer counts (M2)")


class ManagingPartnerRead(BaseModel):
    partner_id: str
    share: str = Field(description="1/N of the client's MRR (M7)", examples=["1/2"])
    credit: Amount
    qualifying_users: list[str]
    activities: list[CountingActivityRead]
    ends_on: date | None = Field(description="When credit ends without new activity (M6)")


class NotManagingPartnerRead(BaseModel):
    partner_id: str
    reasons: list[str]


class AttributionRead(BaseModel):
    client_id: str
    as_of: date
    mrr: Amount | None
    currency: str | None
    country: str | None
    window: WindowRead
    qualifying_actions_version: str
    managing: list[ManagingPartnerRead]
    not_managing: list[NotManagingPartnerRead]


class ManagedClientRead(BaseModel):
    client_id: str
    credit: Amount
    currency: str
    share_denominator: int
    country: str | None
    ends_on: date | None = Field(description="Earliest day it ends without new activity")


class ManagedCreditRead(BaseModel):
    partner_id: str
    as_of: date
    clients: list[ManagedClientRead] = Field(description="A page, by client id")
    totals: dict[str, Amount] = Field(description="Per currency, over every client")
    next_after: str | None = Field(description="Pass as `after` for the next page")


class ManagedPageQuery(BaseModel):
    """A keyset page of a partner's managed clients, in client-id order (beside `as_of`)."""

    after: str | None = Field(default=None, description="`next_after` of the previous page")
    page_size: int = Field(default=1000, ge=1, le=5000)


class LedgerQuery(BaseModel):
    """Which ledger entries: effective days in [from, to], as recorded by `known_at`, a page."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    start: date | None = Field(default=None, alias="from", description="First effective day")
    end: date | None = Field(default=None, alias="to", description="Last effective day")
    known_at: AwareDatetime | None = Field(default=None, description="As recorded by then")
    after: int | None = Field(default=None, description="`next_after` of the previous page")
    page_size: int = Field(default=100, ge=1, le=1000)


class LedgerEntryRead(BaseModel):
    id: int
    client_id: str
    effective_on: date
    amount: Amount
    currency: str
    share_denominator: int
    country: str | None
    rule: str
    cause: list[str]
    recorded_at: datetime


class LedgerPage(BaseModel):
    partner_id: str
    entries: list[LedgerEntryRead]
    next_after: int | None = Field(description="Pass as `after` for the next page")


class ExpiringClientRead(BaseModel):
    client_id: str
    ends_on: date
    credit_at_risk: Amount
    currency: str


class ExpiringRead(BaseModel):
    partner_id: str
    as_of: date
    within_days: int
    clients: list[ExpiringClientRead]
    at_risk: dict[str, Amount]


class RemoveAccess(BaseModel):
    confirm: Literal["REMOVE"] = Field(description='The literal word "REMOVE" (M5)')


class AccessActionRead(BaseModel):
    partner_id: str
    client_id: str
    user_id: str | None
    action: str
    event_id: str
    at: datetime


class EmployeeRead(BaseModel):
    user_id: str
    email: str
    partner_employee: bool
    status: str
    linked_clients: list[str]


class EmployeesRead(BaseModel):
    partner_id: str
    employees: list[EmployeeRead]
