"""registrations and partner capacity (C1-C7)"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "partner_capacity",
        sa.Column("partner_id", sa.String(), nullable=False),
        sa.Column("partner_type", sa.String(), nullable=False),
        sa.Column("tier", sa.String(), nullable=True),
        sa.Column("tier_month", sa.String(), nullable=True),
        sa.Column("tier_revision", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("partner_id", name=op.f("pk_partner_capacity")),
    )
    op.create_table(
        "registration",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("partner_id", sa.String(), nullable=False),
        sa.Column("domain", sa.String(), nullable=False),
        sa.Column("website", sa.String(), nullable=False),
        sa.Column("company", sa.String(), nullable=False),
        sa.Column("contact_name", sa.String(), nullable=False),
        sa.Column("country", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration")),
    )
    op.create_index(
        "ix_registration_expires_at_active",
        "registration",
        ["expires_at"],
        postgresql_where=sa.text("status = 'active' AND expires_at IS NOT NULL"),
    )
    op.create_index(
        op.f("ix_registration_domain_registered_at"), "registration", ["domain", "registered_at"]
    )
    op.create_index(
        "ix_registration_partner_id_active",
        "registration",
        ["partner_id", "expires_at"],
        postgresql_where=sa.text("status = 'active'"),
    )
    op.create_index(
        op.f("ix_registration_partner_id_registered_at"),
        "registration",
        ["partner_id", "registered_at"],
    )
    op.create_index(
        "uq_registration_domain_active",
        "registration",
        ["domain"],
        unique=True,
        postgresql_where=sa.text("status = 'active'"),
    )


def downgrade() -> None:
    # dropping a table drops its indexes
    op.drop_table("registration")
    op.drop_table("partner_capacity")
