"""keel's own tables, present in every service database: the outbox and the applied-event inbox.

Each service's Alembic environment migrates this metadata beside its own.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, Identity, LargeBinary, Table, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from keel.db import new_registry


class KeelTable(SQLModel, registry=new_registry()):
    pass


metadata = KeelTable.metadata


class OutboxMessage(KeelTable, table=True):
    """A message written in the same transaction as the state change it announces (habit 4)."""

    __tablename__ = "outbox_message"

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger, Identity(always=True), primary_key=True)
    )
    topic: str
    key: str
    value: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    headers: list[Any] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    created_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


class AppliedEvent(KeelTable, table=True):
    """The events a consumer has applied, recorded in the transaction that applied them."""

    __tablename__ = "applied_event"

    consumer: str = Field(primary_key=True)
    source: str = Field(primary_key=True)
    event_id: str = Field(primary_key=True)
    event_type: str
    topic: str
    partition: int
    offset: int = Field(sa_column=Column(BigInteger, nullable=False))
    applied_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


# The Core table, for hot paths that skip the ORM's bulk-persistence machinery.
OUTBOX: Table = OutboxMessage.__table__  # type: ignore[attr-defined]
