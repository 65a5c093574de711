"""initial schema: keel's outbox and applied-event tables"""

from keel.migrations import MESSAGING_TABLES_V1

revision = "0001"
down_revision = None

upgrade, downgrade = MESSAGING_TABLES_V1.upgrade, MESSAGING_TABLES_V1.downgrade
