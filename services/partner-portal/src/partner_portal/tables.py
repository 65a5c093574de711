"""The portal's own facts (what no other service owns): client profiles, renewals, engagement,
the partner's team, and the relationship index (which partner has which client, and why)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ARRAY, Column, DateTime, Index, Numeric, String, Table
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from keel.db import new_registry


class PortalTable(SQLModel, registry=new_registry()):
    pass


metadata = PortalTable.metadata


def _moment() -> Any:
    return Field(sa_column=Column(DateTime(timezone=True), nullable=False))


def _document() -> Any:
    return Field(sa_column=Column(JSONB, nullable=False))


class Client(PortalTable, table=True):
    """The client as its latest (by event time) `client.created/updated` states it."""

    __tablename__ = "client"

    client_id: str = Field(primary_key=True)
    name: str
    website_domain: str
    country: str
    currency: str
    at: datetime = _moment()


class ClientSubscription(PortalTable, table=True):
    __tablename__ = "client_subscription"

    client_id: str = Field(primary_key=True)
    mrr: Decimal = Field(sa_column=Column(Numeric, nullable=False))
    currency: str
    products: list[str] = Field(sa_column=Column(ARRAY(String), nullable=False))
    contact_tier: str | None = None
    email_tier: str | None = None
    at: datetime = _moment()


class ClientApps(PortalTable, table=True):
    __tablename__ = "client_apps"

    client_id: str = Field(primary_key=True)
    apps: list[str] = Field(sa_column=Column(ARRAY(String), nullable=False))
    at: datetime = _moment()


class ClientEngagement(PortalTable, table=True):
    """The latest upstream score (D4); absent: the portal derives one from the apps."""

    __tablename__ = "client_engagement"

    client_id: str = Field(primary_key=True)
    score: int
    at: datetime = _moment()


class Renewal(PortalTable, table=True):
    """A scheduled renewal: upcoming from `scheduled_at` until its decision (D2)."""

    __tablename__ = "renewal"

    client_id: str = Field(primary_key=True)
    renewal_date: date = Field(primary_key=True)
    decision_deadline: date
    communication_owner: dict[str, Any] = _document()
    renewal_manager: dict[str, Any] = _document()
    current_subscription: dict[str, Any] = _document()
    renewal_subscription: dict[str, Any] = _document()
    scheduled_at: datetime = _moment()


class RenewalDecision(PortalTable, table=True):
    """`client.renewal_decided`, kept apart so a decision that arrives first is not lost."""

    __tablename__ = "renewal_decision"

    client_id: str = Field(primary_key=True)
    renewal_date: date = Field(primary_key=True)
    outcome: str
    decided_at: datetime = _moment()


class TeamMember(PortalTable, table=True):
    """A vendor person on the partner's team; on it while assigned later than unassigned."""

    __tablename__ = "team_member"

    partner_id: str = Field(primary_key=True)
    role: str = Field(primary_key=True)
    email: str = Field(primary_key=True)
    name: str
    description: str | None = None
    assigned_at: datetime = _moment()
    unassigned_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class ManagedCredit(PortalTable, table=True):
    """The relationship index, managed side (D1): whether the ledger credits the partner for the
    client from `effective_on` (its `managed_credit.changed`, the latest recorded per day)."""

    __tablename__ = "managed_credit"

    partner_id: str = Field(primary_key=True)
    client_id: str = Field(primary_key=True)
    effective_on: date = Field(primary_key=True)
    managed: bool
    recorded_at: datetime = _moment()


class SoldDeal(PortalTable, table=True):
    """The relationship index, sold side (D1): a deal closed for the client."""

    __tablename__ = "sold_deal"
    __table_args__ = (Index(None, "partner_id", "closed_on"),)

    deal_id: str = Field(primary_key=True)
    partner_id: str
    client_id: str
    closed_on: date
    gain: bool  # a new, cross-sell or upsell deal; downgrades and churn make no client sold


def core(table: type[SQLModel]) -> Table:
    found: Table = table.__table__  # type: ignore[attr-defined]
    return found
