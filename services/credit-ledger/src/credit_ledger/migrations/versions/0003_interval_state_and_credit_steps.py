"""interval state and the credit-step read table"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    """The fast path's state (clients without one are derived at their next event) and the
    read table, filled from the ledger: the latest entry of each effective day, and for a
    credit the next effective day whose credit is 0."""
    op.create_table(
        "interval_state",
        sa.Column("client_id", sa.String(), nullable=False),
        sa.Column("state", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_interval_state")),
    )
    op.create_table(
        "credit_step",
        sa.Column("partner_id", sa.String(), nullable=False),
        sa.Column("client_id", sa.String(), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(), nullable=False),
        sa.Column("currency", sa.String(), nullable=False),
        sa.Column("denominator", sa.Integer(), nullable=False),
        sa.Column("country", sa.String(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint(
            "partner_id", "client_id", "effective_on", name=op.f("pk_credit_step")
        ),
    )
    op.create_index(op.f("ix_credit_step_client_id"), "credit_step", ["client_id"])
    op.execute(
        """
        INSERT INTO credit_step
            (partner_id, client_id, effective_on, amount, currency, denominator, country)
        SELECT DISTINCT ON (partner_id, client_id, effective_on)
            partner_id, client_id, effective_on, amount, currency, denominator, country
        FROM ledger_entry ORDER BY partner_id, client_id, effective_on, id DESC
        """
    )
    op.execute(
        """
        UPDATE credit_step AS s SET ends_on = (
            SELECT min(z.effective_on) FROM credit_step AS z
            WHERE z.partner_id = s.partner_id AND z.client_id = s.client_id
              AND z.effective_on > s.effective_on AND z.amount = 0)
        WHERE s.amount <> 0
        """
    )


def downgrade() -> None:
    # dropping a table drops its indexes
    op.drop_table("credit_step")
    op.drop_table("interval_state")
