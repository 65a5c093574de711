"""Consumer lag, measured by the worker itself: `keel_consumer_lag_messages{consumer,topic,
partition}` is the partition's high watermark minus the group's committed offset, every
`interval_s` (10 s by default).

It is read from outside the group (a client that never joins it), so a consumer that is stalled,
retrying, or stopped while the worker lives still shows its lag growing. Before the group's first
commit a partition's lag counts from its earliest offset (where the group will start).
The embedded broker (Tansu 0.6) answers the end offset with the newest produce batch's base
offset + 1, so there the figure undercounts by up to one batch; Apache Kafka's is exact.
"""

import asyncio
import logging
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from keel.metrics import CONSUMER_LAG
from keel.settings import KafkaSettings
from keel.stopping import sleep_unless_stopped

logger = logging.getLogger(__name__)


class LagMonitor:
    def __init__(
        self, consumer: str, topics: Sequence[str], kafka: KafkaSettings, interval_s: float = 10.0
    ) -> None:
        self.consumer = consumer
        self.topics = topics
        self.kafka = kafka
        self.interval_s = interval_s

    async def run(self, stopping: asyncio.Event) -> None:
        # group_id gives access to the group's committed offsets; not subscribing never joins it.
        client = AIOKafkaConsumer(
            **self.kafka.connection_options(),
            group_id=self.kafka.group(self.consumer),
            enable_auto_commit=False,
        )
        await client.start()
        try:
            while not stopping.is_set():
                try:
                    await self.measure(client)
                except (KafkaError, OSError, TimeoutError):
                    # The figure goes stale, and the broker's absence shows in /readyz.
                    logger.warning("lag of %s not measured", self.consumer, exc_info=True)
                await sleep_unless_stopped(stopping, self.interval_s)
        finally:
            await client.stop()

    async def measure(self, client: AIOKafkaConsumer) -> None:
        await client.topics()  # refreshes the metadata: partitions of every topic
        partitions = [
            TopicPartition(self.kafka.topic(topic), partition)
            for topic in self.topics
            for partition in sorted(client.partitions_for_topic(self.kafka.topic(topic)) or ())
        ]
        if not partitions:
            return
        ends = await client.end_offsets(partitions)
        starts = await client.beginning_offsets(partitions)
        prefix = self.kafka.topic_prefix
        for partition in partitions:
            committed = await client.committed(partition)
            position = starts[partition] if committed is None else committed
            CONSUMER_LAG.labels(
                self.consumer, partition.topic.removeprefix(prefix), str(partition.partition)
            ).set(max(ends[partition] - position, 0))
