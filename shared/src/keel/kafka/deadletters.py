"""`keel-dlq <topic>`: what the consumers dead-lettered from a topic, one JSON object a line.

Reads `<topic>.dlq` from its start to its end as it is now, with no consumer group (nothing is
committed, so reading changes nothing). Each line: where the message came from, why it could not
be applied (the `dlq-*` headers the consumer loop writes) and the message itself.
"""

import argparse
import asyncio
import json
import sys
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from keel.settings import KafkaSettings

HEADERS = ("reason", "detail", "exception", "consumer", "value-omitted")


def _event(value: bytes | None) -> Any:
    text = (value or b"").decode(errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return text  # not JSON: it was dead-lettered for that (not_a_cloudevent)


async def dead_letters(kafka: KafkaSettings, topic: str) -> list[dict[str, Any]]:
    """Every message on the (logical) topic's dead-letter topic, oldest first per partition."""
    name = kafka.topic(f"{topic}.dlq")
    consumer = AIOKafkaConsumer(**kafka.connection_options(), enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer.topics()  # loads the cluster's metadata
        partitions = [TopicPartition(name, p) for p in consumer.partitions_for_topic(name) or ()]
        if not partitions:
            raise LookupError(f"no topic {name}")
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        found: list[dict[str, Any]] = []
        while [p for p in partitions if await consumer.position(p) < ends[p]]:
            for partition, records in (await consumer.getmany(timeout_ms=1000)).items():
                found.extend(_letter(r) for r in records if r.offset < ends[partition])
        return found
    finally:
        await consumer.stop()


def _letter(record: Any) -> dict[str, Any]:
    headers = {key: value.decode(errors="replace") for key, value in record.headers}
    return {
        "offset": record.offset,
        "key": (record.key or b"").decode(errors="replace"),
        **{name: headers.get(f"dlq-{name}") for name in HEADERS},
        "from": {
            "topic": headers.get("dlq-topic"),
            "partition": headers.get("dlq-partition"),
            "offset": headers.get("dlq-offset"),
        },
        "message": _event(record.value),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="keel-dlq", description=__doc__.split("\n\n")[0])
    parser.add_argument("topic", help="the topic whose dead letters to read, e.g. deal.events.v1")
    topic = parser.parse_args().topic
    kafka = KafkaSettings()  # bootstrap servers and security from the environment
    for letter in asyncio.run(dead_letters(kafka, topic)):
        sys.stdout.write(json.dumps(letter) + "\n")
