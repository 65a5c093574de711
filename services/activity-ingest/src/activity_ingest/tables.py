from datetime import datetime
from typing import Any

from keel.db import new_registry
from sqlalchemy import BigInteger, Column, DateTime, Identity, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel


class IngestTable(SQLModel, registry=new_registry()):
    pass


metadata = IngestTable.metadata


class IngestedEvent(IngestTable, table=True):
    """The ingest log: every accepted event, kept as the audit record and the source of replays.

    The unique (source, event_id) constraint is the dedup mark: it is the same row as the event,
    so the mark can never exist without the event it marks.
    """

    __tablename__ = "ingested_event"
    __table_args__ = (UniqueConstraint("source", "event_id"),)

    seq: int | None = Field(
        default=None, sa_column=Column(BigInteger, Identity(always=True), primary_key=True)
    )
    source: str
    event_id: str
    type: str
    topic: str
    key: str
    event_time: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    ingested_at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now())
    )
    envelope: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
