"""facts and the managed-credit ledger"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from keel.migrations import timestamp_default_now

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "fact",
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("event_id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("client_id", sa.String(), nullable=True),
        sa.Column("partner_id", sa.String(), nullable=True),
        sa.Column("user_id", sa.String(), nullable=True),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        timestamp_default_now("recorded_at"),
        sa.PrimaryKeyConstraint("source", "event_id", name=op.f("pk_fact")),
    )
    op.create_index(op.f("ix_fact_client_id_at"), "fact", ["client_id", "at"])
    op.create_index(op.f("ix_fact_partner_id_kind"), "fact", ["partner_id", "kind"])
    op.create_index(op.f("ix_fact_user_id_kind"), "fact", ["user_id", "kind"])
    op.create_table(
        "ledger_entry",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("partner_id", sa.String(), nullable=False),
        sa.Column("client_id", sa.String(), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(), nullable=False),
        sa.Column("currency", sa.String(), nullable=False),
        sa.Column("denominator", sa.Integer(), nullable=False),
        sa.Column("country", sa.String(), nullable=True),
        sa.Column("rule", sa.String(), nullable=False),
        sa.Column("cause", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entry")),
    )
    op.create_index(
        op.f("ix_ledger_entry_client_id_partner_id"), "ledger_entry", ["client_id", "partner_id"]
    )
    op.create_index(
        op.f("ix_ledger_entry_partner_id_client_id_effective_on_id"),
        "ledger_entry",
        ["partner_id", "client_id", "effective_on", "id"],
    )
    op.create_index(
        op.f("ix_ledger_entry_partner_id_recorded_at"),
        "ledger_entry",
        ["partner_id", "recorded_at"],
    )


def downgrade() -> None:
    # dropping a table drops its indexes
    op.drop_table("ledger_entry")
    op.drop_table("fact")
