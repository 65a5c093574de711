"""the portal's facts: client profiles, renewals, engagement, team, relationship index"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"

MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "client",
        sa.Column("client_id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("website_domain", sa.String(), nullable=False),
        sa.Column("country", sa.String(), nullable=False),
        sa.Column("currency", sa.String(), nullable=False),
        sa.Column("at", MOMENT, nullable=False),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_client")),
    )
    op.create_table(
        "client_subscription",
        sa.Column("client_id", sa.String(), nullable=False),
        sa.Column("mrr", sa.Numeric(), nullable=False),
        sa.Column("currency", sa.String(), nullable=False),
        sa.Column("products", postgresql.ARRAY(sa.String()), nullable=False),
        sa.Column("contact_tier", sa.String(), nullable=True),
        sa.Column("email_tier", sa.String(), nullable=True),
        sa.Column("at", MOMENT, nullable=False),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_client_subscription")),
    )
    op.create_table(
        "client_apps",
        sa.Column("client_id", sa.String(), nullable=False),
        sa.Column("apps", postgresql.ARRAY(sa.String()), nullable=False),
        sa.Column("at", MOMENT, nullable=False),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_client_apps")),
    )
    op.create_table(
        "client_engagement",
        sa.Column("client_id", sa.String(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("at", MOMENT, nullable=False),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_client_engagement")),
    )
    op.create_table(
        "renewal",
        sa.Column("client_id", sa.String(), nullable=False),
        sa.Column("renewal_date", sa.Date(), nullable=False),
        sa.Column("decision_deadline", sa.Date(), nullable=False),
        sa.Column("communication_owner", postgresql.JSONB(), nullable=False),
        sa.Column("renewal_manager", postgresql.JSONB(), nullable=False),
        sa.Column("current_subscription", postgresql.JSONB(), nullable=False),
        sa.Column("renewal_subscription", postgresql.JSONB(), nullable=False),
        sa.Column("scheduled_at", MOMENT, nullable=False),
        sa.PrimaryKeyConstraint("client_id", "renewal_date", name=op.f("pk_renewal")),
    )
    op.create_table(
        "renewal_decision",
        sa.Column("client_id", sa.String(), nullable=False),
        sa.Column("renewal_date", sa.Date(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("decided_at", MOMENT, nullable=False),
        sa.PrimaryKeyConstraint("client_id", "renewal_date", name=op.f("pk_renewal_decision")),
    )
    op.create_table(
        "team_member",
        sa.Column("partner_id", sa.String(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("email", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("description", sa.String(), nullable=True),
        sa.Column("assigned_at", MOMENT, nullable=False),
        sa.Column("unassigned_at", MOMENT, nullable=True),
        sa.PrimaryKeyConstraint("partner_id", "role", "email", name=op.f("pk_team_member")),
    )
    op.create_table(
        "managed_credit",
        sa.Column("partner_id", sa.String(), nullable=False),
        sa.Column("client_id", sa.String(), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("managed", sa.Boolean(), nullable=False),
        sa.Column("recorded_at", MOMENT, nullable=False),
        sa.PrimaryKeyConstraint(
            "partner_id", "client_id", "effective_on", name=op.f("pk_managed_credit")
        ),
    )
    op.create_table(
        "sold_deal",
        sa.Column("deal_id", sa.String(), nullable=False),
        sa.Column("partner_id", sa.String(), nullable=False),
        sa.Column("client_id", sa.String(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=False),
        sa.Column("gain", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("deal_id", name=op.f("pk_sold_deal")),
    )
    op.create_index(
        op.f("ix_sold_deal_partner_id_closed_on"), "sold_deal", ["partner_id", "closed_on"]
    )


def downgrade() -> None:
    # dropping a table drops its indexes
    for table in (
        "sold_deal",
        "managed_credit",
        "team_member",
        "renewal_decision",
        "renewal",
        "client_engagement",
        "client_apps",
        "client_subscription",
        "client",
    ):
        op.drop_table(table)
