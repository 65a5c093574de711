"""Topic administration and the broker probe behind /readyz."""

import asyncio
import logging
from collections.abc import Iterable
from contextlib import suppress

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from keel.events.topics import Topic, all_topics
from keel.logs import configure_logging
from keel.settings import KafkaSettings

logger = logging.getLogger(__name__)


async def ensure_topics(
    settings: KafkaSettings, topics: Iterable[Topic], *, partitions: int | None = None
) -> list[str]:
    """Create the topics that do not exist yet (names prefixed); returns the names created."""
    admin = AIOKafkaAdminClient(**settings.connection_options())
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(
                name=settings.topic(topic.name),
                num_partitions=partitions or topic.partitions,
                replication_factor=settings.replication_factor,
                topic_configs={"retention.ms": str(topic.retention_ms)},
            )
            for topic in topics
            if settings.topic(topic.name) not in existing
        ]
        if wanted:
            # Another starter may win the race; the topics exist then, which is all we want.
            with suppress(TopicAlreadyExistsError):
                await admin.create_topics(wanted)
        return [topic.name for topic in wanted]
    finally:
        await admin.close()


def create_topics_command() -> None:
    """`keel-topics`: create every topic and dead-letter topic that does not exist yet, with the
    partitions and retention of keel.events.topics (the topics Job; safe to run again)."""
    configure_logging("keel-topics")
    settings = KafkaSettings()  # bootstrap servers from the environment
    created = set(asyncio.run(ensure_topics(settings, all_topics())))
    for topic in all_topics():
        logger.info(
            "topic %s %s: %d partitions, retention %d ms, replication factor %d",
            settings.topic(topic.name),
            "created" if settings.topic(topic.name) in created else "exists",
            topic.partitions,
            topic.retention_ms,
            settings.replication_factor,
        )


class BrokerProbe:
    """Answers whether the brokers answer, reusing one admin connection between checks."""

    def __init__(self, settings: KafkaSettings, timeout_s: float = 2.0) -> None:
        self.settings = settings
        self.timeout_s = timeout_s
        self._admin: AIOKafkaAdminClient | None = None

    async def check(self) -> None:
        try:
            if self._admin is None:
                self._admin = AIOKafkaAdminClient(**self.settings.connection_options())
                await asyncio.wait_for(self._admin.start(), self.timeout_s)
            await asyncio.wait_for(self._admin.describe_cluster(), self.timeout_s)
        except Exception:
            await self.close()
            raise

    async def close(self) -> None:
        if self._admin is not None:
            admin, self._admin = self._admin, None
            await admin.close()


async def delete_topics(settings: KafkaSettings, topics: Iterable[Topic]) -> None:
    admin = AIOKafkaAdminClient(**settings.connection_options())
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        doomed = [settings.topic(t.name) for t in topics if settings.topic(t.name) in existing]
        if doomed:
            await admin.delete_topics(doomed)
    finally:
        await admin.close()
