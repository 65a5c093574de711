"""deals credit registrations and rollups"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from keel.migrations import timestamp_default_now

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "client_apps",
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("event_id", sa.String(), nullable=False),
        sa.Column("client_id", sa.String(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("apps", postgresql.ARRAY(sa.String()), nullable=False),
        sa.PrimaryKeyConstraint("source", "event_id", name=op.f("pk_client_apps")),
    )
    op.create_index(op.f("ix_client_apps_client_id_at"), "client_apps", ["client_id", "at"])
    op.create_table(
        "credit_entry",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("event_id", sa.String(), nullable=False),
        sa.Column("partner_id", sa.String(), nullable=False),
        sa.Column("client_id", sa.String(), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(), nullable=False),
        sa.Column("currency", sa.String(), nullable=False),
        sa.Column("denominator", sa.Integer(), nullable=False),
        sa.Column("client_country", sa.String(), nullable=True),
        sa.Column("rule", sa.String(), nullable=False),
        sa.Column("cause", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_entry")),
        sa.UniqueConstraint("event_id", name=op.f("uq_credit_entry_event_id")),
    )
    op.create_index(op.f("ix_credit_entry_effective_on"), "credit_entry", ["effective_on"])
    op.create_index(
        op.f("ix_credit_entry_partner_id_client_id_effective_on_recorded_at_id"),
        "credit_entry",
        ["partner_id", "client_id", "effective_on", "recorded_at", "id"],
    )
    op.create_table(
        "deal",
        sa.Column("deal_id", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("event_id", sa.String(), nullable=False),
        sa.Column("partner_id", sa.String(), nullable=False),
        sa.Column("client_id", sa.String(), nullable=False),
        sa.Column("client_domain", sa.String(), nullable=False),
        sa.Column("client_country", sa.String(), nullable=False),
        sa.Column("currency", sa.String(), nullable=False),
        sa.Column("deal_type", sa.String(), nullable=False),
        sa.Column("product_line", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("mrr_delta", sa.Numeric(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=False),
        sa.Column("unit", sa.Numeric(), nullable=False),
        sa.Column("units_version", sa.String(), nullable=False),
        sa.Column("rate", sa.Numeric(), nullable=False),
        sa.Column("rate_rule", sa.String(), nullable=False),
        sa.Column("rates_version", sa.String(), nullable=False),
        sa.Column("growth_version", sa.String(), nullable=False),
        sa.Column("line_first_sold_on", sa.Date(), nullable=False),
        sa.Column("registration_required", sa.Boolean(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("deal_id", name=op.f("pk_deal")),
    )
    op.create_index(op.f("ix_deal_client_id_product_line"), "deal", ["client_id", "product_line"])
    op.create_index(op.f("ix_deal_closed_on"), "deal", ["closed_on"])
    op.create_index(op.f("ix_deal_partner_id_closed_on"), "deal", ["partner_id", "closed_on"])
    op.create_table(
        "partner_fact",
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("event_id", sa.String(), nullable=False),
        sa.Column("partner_id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("partner_type", sa.String(), nullable=True),
        sa.Column("certified", sa.Boolean(), nullable=True),
        sa.PrimaryKeyConstraint("source", "event_id", name=op.f("pk_partner_fact")),
    )
    op.create_index(op.f("ix_partner_fact_partner_id_at"), "partner_fact", ["partner_id", "at"])
    op.create_table(
        "registration",
        sa.Column("registration_id", sa.String(), nullable=False),
        sa.Column("partner_id", sa.String(), nullable=False),
        sa.Column("domain", sa.String(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("registration_id", name=op.f("pk_registration")),
    )
    op.create_index(
        op.f("ix_registration_partner_id_domain"), "registration", ["partner_id", "domain"]
    )
    op.create_table(
        "rollup",
        sa.Column("month", sa.String(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("evaluated_on", sa.Date(), nullable=False),
        sa.Column("digest", sa.String(), nullable=False),
        sa.Column("partners", sa.Integer(), nullable=False),
        sa.Column("tier_counts", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("policy_versions", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("changes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        timestamp_default_now("created_at"),
        sa.PrimaryKeyConstraint("month", "revision", name=op.f("pk_rollup")),
    )
    op.create_table(
        "rollup_partner",
        sa.Column("month", sa.String(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.String(), nullable=False),
        sa.Column("partner_type", sa.String(), nullable=False),
        sa.Column("model", sa.String(), nullable=False),
        sa.Column("tier", sa.String(), nullable=True),
        sa.Column("document", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("month", "revision", "partner_id", name=op.f("pk_rollup_partner")),
    )
    op.create_index(
        op.f("ix_rollup_partner_partner_id_month_revision"),
        "rollup_partner",
        ["partner_id", "month", "revision"],
    )


def downgrade() -> None:
    # dropping a table drops its indexes
    op.drop_table("rollup_partner")
    op.drop_table("rollup")
    op.drop_table("registration")
    op.drop_table("partner_fact")
    op.drop_table("deal")
    op.drop_table("credit_entry")
    op.drop_table("client_apps")
