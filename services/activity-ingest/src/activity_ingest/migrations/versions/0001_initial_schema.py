"""initial schema: the ingest log, and keel's outbox and applied-event tables"""

import sqlalchemy as sa
from alembic import op

from keel.migrations import MESSAGING_TABLES_V1, timestamp_default_now

revision = "0001"
down_revision = None


def upgrade() -> None:
    MESSAGING_TABLES_V1.upgrade()
    op.create_table(
        "ingested_event",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("event_id", sa.String(), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("topic", sa.String(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),
        timestamp_default_now("ingested_at"),
        sa.Column("envelope", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_ingested_event")),
        sa.UniqueConstraint("source", "event_id", name=op.f("uq_ingested_event_source_event_id")),
    )
    op.create_index(op.f("ix_ingested_event_ingested_at"), "ingested_event", ["ingested_at"])
    op.create_index(op.f("ix_ingested_event_event_time"), "ingested_event", ["event_time"])


def downgrade() -> None:
    op.drop_table("ingested_event")
    MESSAGING_TABLES_V1.downgrade()
