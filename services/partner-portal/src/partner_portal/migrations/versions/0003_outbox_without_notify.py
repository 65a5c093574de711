"""keel v2: commits no longer NOTIFY the outbox relay (it polls adaptively)"""

from keel.migrations import OUTBOX_WITHOUT_NOTIFY

revision = "0003"
down_revision = "0002"

upgrade, downgrade = OUTBOX_WITHOUT_NOTIFY.upgrade, OUTBOX_WITHOUT_NOTIFY.downgrade
