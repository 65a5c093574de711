"""keel's own tables, present in every service database: the outbox and the applied-event inbox.

Each service's Alembic environment migrates this metadata beside its own.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import DDL, BigInteger, Column, DateTime, Identity, LargeBinary, Table, event, func
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


OUTBOX_NOTIFY_CHANNEL = "keel_outbox"
# A statement trigger wakes the outbox relay (LISTEN keel_outbox) when a transaction that queued
# messages commits; nothing is delivered for a rollback. Installed by create_all and migrations.
OUTBOX_NOTIFY_DDL = (
    f"""
    CREATE FUNCTION keel_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('{OUTBOX_NOTIFY_CHANNEL}', '');
        RETURN NULL;
    END $$
    """,
    "CREATE TRIGGER outbox_message_notify AFTER INSERT ON outbox_message "
    "FOR EACH STATEMENT EXECUTE FUNCTION keel_outbox_notify()",
)
# The Core table, for hot paths that skip the ORM's bulk-persistence machinery.
OUTBOX: Table = OutboxMessage.__table__  # type: ignore[attr-defined]
for statement in OUTBOX_NOTIFY_DDL:
    event.listen(OUTBOX, "after_create", DDL(statement))  # type: ignore[no-untyped-call]
