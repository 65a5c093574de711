from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Column, Date, DateTime, Identity, Index, Numeric, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from keel.db import new_registry


class LedgerTable(SQLModel, registry=new_registry()):
    pass


metadata = LedgerTable.metadata


class Fact(LedgerTable, table=True):
    """Every fact the M-rules read, append-only, with its event time: upstream events as they
    came, and the client-access actions taken through this service's API."""

    __tablename__ = "fact"
    __table_args__ = (
        Index(None, "client_id", "at"),
        Index(None, "partner_id", "kind"),
        Index(None, "user_id", "kind"),
    )

    source: str = Field(primary_key=True)
    event_id: str = Field(primary_key=True)
    kind: str
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    client_id: str | None = None
    partner_id: str | None = None
    user_id: str | None = None
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    recorded_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


class LedgerEntry(LedgerTable, table=True):
    """Append-only: from `effective_on` the partner's managed credit for the client is `amount`
    (until a later effective day), as known from `recorded_at`. A correction is a new entry."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        Index(None, "partner_id", "client_id", "effective_on", "id"),
        Index(None, "client_id", "partner_id"),
        Index(None, "partner_id", "recorded_at"),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger, Identity(always=True), primary_key=True)
    )
    partner_id: str
    client_id: str
    effective_on: date = Field(sa_column=Column(Date, nullable=False))
    amount: Decimal = Field(sa_column=Column(Numeric, nullable=False))
    currency: str
    denominator: int
    country: str | None = None
    rule: str
    cause: list[str] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    recorded_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class IntervalState(LedgerTable, table=True):
    """The fast path's state of a client (domain/coverage.py), derived from its facts: per
    partner user the moments its activities qualify and the days they cover, and the users known
    from activities. A client without a row is derived from its facts at its next event."""

    __tablename__ = "interval_state"

    client_id: str = Field(primary_key=True)
    state: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))


class CreditStep(LedgerTable, table=True):
    """The read table: per partner and client, the credit from each effective day as now known
    (the latest ledger entry for that day), and for a credit the day it ends (the next step to
    0, M6). Rewritten in the transaction that appends the entries; "as known at" reads the
    ledger itself."""

    __tablename__ = "credit_step"
    __table_args__ = (Index(None, "client_id"),)

    partner_id: str = Field(primary_key=True)
    client_id: str = Field(primary_key=True)
    effective_on: date = Field(sa_column=Column(Date, primary_key=True))
    amount: Decimal = Field(sa_column=Column(Numeric, nullable=False))
    currency: str
    denominator: int
    country: str | None = None
    ends_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
