from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Identity,
    Index,
    Integer,
    Numeric,
    String,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel

from keel.db import new_registry


class TierTable(SQLModel, registry=new_registry()):
    pass


metadata = TierTable.metadata


def _numeric(nullable: bool = False) -> Any:
    return Field(sa_column=Column(Numeric, nullable=nullable))


def _moment(nullable: bool = False) -> Any:
    return Field(sa_column=Column(DateTime(timezone=True), nullable=nullable))


def _day(nullable: bool = False) -> Any:
    return Field(sa_column=Column(Date, nullable=nullable))


def _document() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))


class Deal(TierTable, table=True):
    """A closed deal (S1) with the rates in force at its close (P1-P3); `line_first_sold_on` and
    the rate of an upsell follow the earliest sale of its product line known so far."""

    __tablename__ = "deal"
    __table_args__ = (
        Index(None, "partner_id", "closed_on"),
        Index(None, "client_id", "product_line"),
        Index(None, "closed_on"),
    )

    deal_id: str = Field(primary_key=True)
    source: str
    event_id: str
    partner_id: str
    client_id: str
    client_domain: str = Field(description="Registrable domain (C1), matched against S3")
    client_country: str
    currency: str
    deal_type: str
    product_line: str
    kind: str
    mrr_delta: Decimal = _numeric()
    closed_at: datetime = _moment()
    closed_on: date = _day()
    unit: Decimal = _numeric()
    units_version: str
    rate: Decimal = _numeric()
    rate_rule: str
    rates_version: str
    growth_version: str
    line_first_sold_on: date = _day()
    registration_required: bool = Field(sa_column=Column(Boolean, nullable=False))
    recorded_at: datetime = _moment()


class CreditEntry(TierTable, table=True):
    """A managed-credit ledger entry as the credit-ledger published it (M7): from `effective_on`
    the partner's credit for the client is `amount`; the later recorded entry of a day wins."""

    __tablename__ = "credit_entry"
    __table_args__ = (
        Index(None, "partner_id", "client_id", "effective_on", "recorded_at", "id"),
        Index(None, "effective_on"),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger, Identity(always=True), primary_key=True)
    )
    source: str
    event_id: str = Field(unique=True)
    partner_id: str
    client_id: str
    effective_on: date = _day()
    amount: Decimal = _numeric()
    currency: str
    denominator: int
    client_country: str | None = None
    rule: str
    cause: list[str] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    recorded_at: datetime = _moment()


class Registration(TierTable, table=True):
    """A registration of a lead domain by a partner, from capacity (S3 reads it at close)."""

    __tablename__ = "registration"
    __table_args__ = (Index(None, "partner_id", "domain"),)

    registration_id: str = Field(primary_key=True)
    partner_id: str
    domain: str
    registered_at: datetime = _moment()
    ended_at: datetime | None = _moment(nullable=True)
    ended_by: str | None = None


class EventFact(TierTable):
    """A fact as one event stated it, keyed by that event: a redelivery cannot add it twice."""

    source: str = Field(primary_key=True)
    event_id: str = Field(primary_key=True)


class PartnerFact(EventFact, table=True):
    """Partner type and certification over time (T2), as of event time."""

    __tablename__ = "partner_fact"
    __table_args__ = (Index(None, "partner_id", "at"),)

    partner_id: str
    kind: str
    at: datetime = _moment()
    partner_type: str | None = None
    certified: bool | None = None


class ClientApps(EventFact, table=True):
    """The apps a client's portal used, as of event time (median app usage, T2)."""

    __tablename__ = "client_apps"
    __table_args__ = (Index(None, "client_id", "at"),)

    client_id: str
    at: datetime = _moment()
    apps: list[str] = Field(sa_column=Column(ARRAY(String), nullable=False))


class Rollup(TierTable, table=True):
    """One immutable revision of a month's rollup (T3); a re-run with other inputs adds one."""

    __tablename__ = "rollup"

    month: str = Field(primary_key=True)
    revision: int = Field(sa_column=Column(Integer, primary_key=True))
    evaluated_on: date = _day()
    digest: str
    partners: int
    tier_counts: dict[str, int] = _document()
    policy_versions: dict[str, str] = _document()
    changes: dict[str, Any] = _document()
    created_at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now())
    )


class RollupPartner(TierTable, table=True):
    """A partner's figures in one rollup revision: points per track, requirements, tier, and the
    projection of the next three months from known expiries (T4)."""

    __tablename__ = "rollup_partner"
    __table_args__ = (Index(None, "partner_id", "month", "revision"),)

    month: str = Field(primary_key=True)
    revision: int = Field(sa_column=Column(Integer, primary_key=True))
    partner_id: str = Field(primary_key=True)
    partner_type: str
    model: str
    tier: str | None = None
    document: dict[str, Any] = _document()
