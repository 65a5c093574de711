"""Every topic: `<family>.events.v<major>`, keyed by the aggregate whose order matters."""

from dataclasses import dataclass

DAY_MS = 24 * 60 * 60 * 1000


@dataclass(frozen=True, slots=True)
class Topic:
    name: str
    partitions: int
    retention_ms: int
    key: str

    @property
    def dead_letter(self) -> "Topic":
        return Topic(f"{self.name}.dlq", 1, 30 * DAY_MS, self.key)


ACTIVITY = Topic("activity.events.v1", 12, 7 * DAY_MS, "client id")
ACCOUNT = Topic("account.events.v1", 6, 7 * DAY_MS, "client id or partner id")
DEAL = Topic("deal.events.v1", 6, 7 * DAY_MS, "partner id")
CREDIT = Topic("credit.events.v1", 6, 7 * DAY_MS, "partner id")
TIER = Topic("tier.events.v1", 3, 7 * DAY_MS, "partner id")
CAPACITY = Topic("capacity.events.v1", 3, 7 * DAY_MS, "partner id")

TOPICS = (ACTIVITY, ACCOUNT, DEAL, CREDIT, TIER, CAPACITY)


def all_topics() -> tuple[Topic, ...]:
    """The topics and their dead-letter topics, as created before the services start."""
    return TOPICS + tuple(topic.dead_letter for topic in TOPICS)
