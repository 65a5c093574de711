from datetime import datetime

from sqlalchemy import BigInteger, Column, DateTime, Identity, Index, Text, UniqueConstraint, func
from sqlmodel import Field, SQLModel

from keel.db import new_registry


class IngestTable(SQLModel, registry=new_registry()):
    pass


metadata = IngestTable.metadata


class IngestedEvent(IngestTable, table=True):
    """The ingest log: every accepted event, kept as the audit record and the source of replays.

    The unique (source, event_id) constraint is the dedup mark: it is the same row as the event,
    so the mark can never exist without the event it marks.
    """

    __tablename__ = "ingested_event"
    __table_args__ = (
        UniqueConstraint("source", "event_id"),
        Index(None, "ingested_at"),
        Index(None, "event_time"),
    )

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
    # The envelope exactly as accepted and published (JSON text): the audit record, replayed as is.
    envelope: str = Field(sa_column=Column(Text, nullable=False))
