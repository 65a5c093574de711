"""keel v2: commits no longer NOTIFY the outbox relay (it polls adaptively)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02

"""

from collections.abc import Sequence

from keel.migrations import outbox_with_notify_v1, outbox_without_notify_v2

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    outbox_without_notify_v2()


def downgrade() -> None:
    outbox_with_notify_v1()
