"""The consumer loop: at-least-once delivery turned into exactly-once application.

Per partition batch, one database transaction applies every message and records its event id
in `applied_event`; a message whose id is already there is skipped. Offsets are committed only
after that transaction commits. A message that can never be applied (not a CloudEvent, unknown
type, invalid payload, a PoisonMessage from its handler) goes to `<topic>.dlq` with a reason code
and the loop goes on. A transient failure (database or broker unreachable) rolls the batch back
and retries it from its first offset, so nothing is lost.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from pydantic import ValidationError
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from keel import context
from keel.db import SessionFactory
from keel.errors import AppError, PoisonMessage
from keel.events.envelope import CloudEvent
from keel.events.registry import Event, EventRegistry, EventRejected
from keel.kafka.publisher import Message, Publisher
from keel.metrics import CONSUMED, CONSUMER_BATCH, CONSUMER_RETRIES
from keel.settings import KafkaSettings
from keel.stopping import sleep_unless_stopped
from keel.tables import AppliedEvent

logger = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, Event[Any]], Awaitable[None]]


class Record(Protocol):
    """The parts of an aiokafka ConsumerRecord the loop reads."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]]


DETAIL_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class Subscription:
    """What one consumer group reads and how each event type is applied.

    Types on the topics without a handler are acknowledged (recorded as applied) and ignored.
    """

    name: str
    topics: Sequence[str]
    handlers: Mapping[str, Handler]
    registry: EventRegistry


@dataclass(frozen=True, slots=True)
class DeadLetter:
    record: Record
    reason: str
    detail: str

    def message(self, consumer: str) -> Message:
        headers = [
            *(self.record.headers or ()),
            ("dlq-reason", self.reason.encode()),
            ("dlq-detail", self.detail[:DETAIL_LIMIT].encode()),
            ("dlq-consumer", consumer.encode()),
            ("dlq-topic", self.record.topic.encode()),
            ("dlq-partition", str(self.record.partition).encode()),
            ("dlq-offset", str(self.record.offset).encode()),
        ]
        return Message(
            topic=f"{self.record.topic}.dlq",
            key=(self.record.key or b"").decode(errors="replace"),
            value=self.record.value or b"",
            headers=headers,
        )


def _is_transient(error: BaseException) -> bool:
    """Errors that say nothing about the message: the database or the broker is away."""
    if isinstance(error, OperationalError | InterfaceError):
        return True
    if isinstance(error, DBAPIError):
        return error.connection_invalidated
    return isinstance(error, OSError | TimeoutError | KafkaError)


class ConsumerLoop:
    def __init__(
        self,
        subscription: Subscription,
        kafka: KafkaSettings,
        sessions: SessionFactory,
        publisher: Publisher,
        *,
        max_backoff_s: float = 10.0,
    ) -> None:
        self.subscription = subscription
        self.kafka = kafka
        self.sessions = sessions
        self.publisher = publisher
        self.max_backoff_s = max_backoff_s
        # Records carry physical (prefixed) topic names; publisher and inbox take logical ones.
        self._prefix = kafka.topic_prefix

    @property
    def name(self) -> str:
        return self.subscription.name

    def _consumer(self) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            *(self.kafka.topic(topic) for topic in self.subscription.topics),
            **self.kafka.connection_options(),
            group_id=self.kafka.group(self.subscription.name),
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=self.kafka.session_timeout_ms,
            heartbeat_interval_ms=self.kafka.heartbeat_interval_ms,
            max_partition_fetch_bytes=self.kafka.max_request_size,
            fetch_max_bytes=self.kafka.max_request_size * 2,
        )

    async def run(self, stopping: asyncio.Event) -> None:
        consumer = self._consumer()
        await consumer.start()
        backoff = 0.1
        try:
            while not stopping.is_set():
                batch = await consumer.getmany(
                    timeout_ms=self.kafka.consumer_poll_timeout_ms,
                    max_records=self.kafka.consumer_max_records,
                )
                for partition, records in batch.items():
                    try:
                        await self._apply(records)
                        await consumer.commit({partition: records[-1].offset + 1})
                        backoff = 0.1
                    except Exception as error:
                        if not _is_transient(error):
                            raise
                        CONSUMER_RETRIES.labels(self.name).inc()
                        logger.warning(
                            "consumer %s: transient failure on %s, retrying batch from offset %d",
                            self.name,
                            partition,
                            records[0].offset,
                            exc_info=True,
                        )
                        self._rewind(consumer, batch)
                        await sleep_unless_stopped(stopping, backoff)
                        backoff = min(backoff * 2, self.max_backoff_s)
                        break
        finally:
            await consumer.stop()

    @staticmethod
    def _rewind(
        consumer: AIOKafkaConsumer, batch: Mapping[TopicPartition, Sequence[Record]]
    ) -> None:
        """Go back to the first uncommitted offset of every partition in the batch."""
        for partition, records in batch.items():
            consumer.seek(partition, records[0].offset)

    async def _apply(self, records: Sequence[Record]) -> None:
        with CONSUMER_BATCH.labels(self.name).time():
            dead: list[DeadLetter] = []
            outcomes: list[str] = []
            async with self.sessions() as session:
                for record in records:
                    with context.bind(context.from_kafka_headers(record.headers)):
                        outcome = await self._apply_one(session, record)
                    if isinstance(outcome, DeadLetter):
                        dead.append(outcome)
                        outcomes.append("dead_lettered")
                    else:
                        outcomes.append(outcome)
                await session.commit()
            if dead:
                await self.publisher.publish([self._dead_letter_message(letter) for letter in dead])
        for record, outcome in zip(records, outcomes, strict=True):
            CONSUMED.labels(self.name, record.topic, outcome).inc()

    def _dead_letter_message(self, letter: DeadLetter) -> Message:
        message = letter.message(self.name)
        # The publisher prefixes topics itself; the record's topic already carries the prefix.
        logical = message.topic.removeprefix(self._prefix)
        logger.error(
            "consumer %s: dead-lettered %s[%d]@%d: %s %s",
            self.name,
            letter.record.topic,
            letter.record.partition,
            letter.record.offset,
            letter.reason,
            letter.detail,
        )
        return Message(logical, message.key, message.value, message.headers)

    async def _apply_one(self, session: AsyncSession, record: Record) -> str | DeadLetter:
        try:
            event = self.subscription.registry.parse(CloudEvent.from_json(record.value or b""))
        except ValidationError as error:
            return DeadLetter(record, "not_a_cloudevent", str(error))
        except EventRejected as error:
            return DeadLetter(record, error.reason, str(error))
        try:
            async with session.begin_nested():
                if not await self._mark_applied(session, event, record):
                    return "duplicate"
                handler = self.subscription.handlers.get(event.envelope.type)
                if handler is not None:
                    await handler(session, event)
        except PoisonMessage as error:
            return DeadLetter(record, error.reason, error.detail)
        except AppError as error:
            return DeadLetter(record, error.slug, error.detail)
        except Exception as error:
            if _is_transient(error):
                raise
            logger.exception("consumer %s: handler failed on %s", self.name, event.envelope.id)
            return DeadLetter(record, "handler_error", f"{type(error).__name__}: {error}")
        return "applied"

    async def _mark_applied(self, session: AsyncSession, event: Event[Any], record: Record) -> bool:
        """Record the event id; False when this consumer already applied it."""
        inserted = await session.execute(
            insert(AppliedEvent)
            .values(
                consumer=self.name,
                source=event.envelope.source,
                event_id=event.envelope.id,
                event_type=event.envelope.type,
                topic=record.topic.removeprefix(self._prefix),
                partition=record.partition,
                offset=record.offset,
            )
            .on_conflict_do_nothing()
            .returning(col(AppliedEvent.event_id))
        )
        return inserted.first() is not None
