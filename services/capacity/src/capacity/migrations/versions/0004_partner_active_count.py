"""partner_capacity.active_count: an upper bound of the active registrations (C2)"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.add_column(
        "partner_capacity",
        sa.Column("active_count", sa.Integer(), server_default="0", nullable=False),
    )
    op.execute(
        "UPDATE partner_capacity p SET active_count = ("
        "SELECT count(*) FROM registration r"
        " WHERE r.partner_id = p.partner_id AND r.status = 'active')"
    )


def downgrade() -> None:
    op.drop_column("partner_capacity", "active_count")
