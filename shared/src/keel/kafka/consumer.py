"""The consumer loop: at-least-once delivery turned into exactly-once application.

Per partition batch, one database transaction applies every message and records its event id
in `applied_event`; a message whose id is already there is skipped. Offsets are committed only
after that transaction commits. A message that can never be applied (not a CloudEvent, unknown
type, invalid payload, an error from its handler or from the batch hook that it alone causes)
goes to `<topic>.dlq` with a reason code and the loop goes on: a failing batch is applied again in
halves, down to single events, to find the events at fault. A transient failure (database or
broker unreachable) rolls the batch back and retries it from its first offset, so nothing is lost
and nothing is dead-lettered for it.
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

from keel import tracing
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
BatchHook = Callable[[AsyncSession, Sequence[Event[Any]]], Awaitable[None]]


class Record(Protocol):
    """The parts of an aiokafka ConsumerRecord the loop reads."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]]


DETAIL_LIMIT = 1000
# What a record costs beyond its key, value and headers (batch and record framing, under 100
# bytes), with room to spare.
FRAMING_BYTES = 512


@dataclass(frozen=True, slots=True)
class Subscription:
    """What one consumer group reads and how each event type is applied.

    Types on the topics without a handler are acknowledged (recorded as applied) and ignored.
    `after_batch`, when given, runs once per batch in the same transaction, after the handlers,
    with the events they applied: for work that is cheaper per batch than per event. Its
    failures are traced to their events like a handler's.

    Checked when built, so a worker with a misspelt handler stops at start: every handler's
    type must be known to the registry and travel on one of the topics read.
    """

    name: str
    topics: Sequence[str]
    handlers: Mapping[str, Handler]
    registry: EventRegistry
    after_batch: BatchHook | None = None

    def __post_init__(self) -> None:
        known = {spec.name: spec.topic for spec in self.registry}
        unknown = sorted(set(self.handlers) - known.keys())
        if unknown:
            raise ValueError(
                f"consumer {self.name}: handlers for event types the registry does not know: "
                f"{', '.join(unknown)} (known: {', '.join(sorted(known))})"
            )
        unread = sorted(t for t in self.handlers if known[t] not in self.topics)
        if unread:
            raise ValueError(
                f"consumer {self.name}: handlers for event types on topics it does not read: "
                + ", ".join(f"{t} (on {known[t]})" for t in unread)
            )


@dataclass(frozen=True, slots=True)
class DeadLetter:
    record: Record
    reason: str
    detail: str
    exception: str | None = None  # the class of the error that made it poison, if one did

    def message(self, consumer: str, max_bytes: int) -> Message:
        """The letter for `<topic>.dlq`. One that would exceed the producer's `max_bytes` goes
        without the message (its size in `dlq-value-omitted`): it cannot be published, and a
        letter that cannot be published would stop the consumer, retried for ever. The message
        itself stays at `dlq-topic`/`dlq-partition`/`dlq-offset` while retention keeps it."""
        headers = [
            *(self.record.headers or ()),
            ("dlq-reason", self.reason.encode()),
            ("dlq-detail", self.detail[:DETAIL_LIMIT].encode()),
            ("dlq-consumer", consumer.encode()),
            ("dlq-topic", self.record.topic.encode()),
            ("dlq-partition", str(self.record.partition).encode()),
            ("dlq-offset", str(self.record.offset).encode()),
        ]
        if self.exception is not None:
            headers.append(("dlq-exception", self.exception.encode()))
        key = (self.record.key or b"").decode(errors="replace")
        value = self.record.value or b""
        size = len(key) + len(value) + sum(len(k) + len(v) for k, v in headers) + FRAMING_BYTES
        if size > max_bytes:
            headers.append(("dlq-value-omitted", str(len(value)).encode()))
            value = b""
        return Message(topic=f"{self.record.topic}.dlq", key=key, value=value, headers=headers)


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
        self.publisher = publisher
        self.max_backoff_s = max_backoff_s
        self.applier = BatchApplier(subscription, sessions, topic_prefix=kafka.topic_prefix)
        # Records carry physical (prefixed) topic names; the publisher takes logical ones.
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
                pending = list(batch.items())
                for index, (partition, records) in enumerate(pending):
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
                        self._rewind(consumer, pending[index:])
                        await sleep_unless_stopped(stopping, backoff)
                        backoff = min(backoff * 2, self.max_backoff_s)
                        break
        finally:
            await consumer.stop()

    @staticmethod
    def _rewind(
        consumer: AIOKafkaConsumer, unapplied: Sequence[tuple[TopicPartition, Sequence[Record]]]
    ) -> None:
        """Go back to the first offset of each partition batch not yet applied and committed."""
        for partition, records in unapplied:
            consumer.seek(partition, records[0].offset)

    async def _apply(self, records: Sequence[Record]) -> None:
        """Apply a partition batch, dead-letter what cannot be applied, then count outcomes."""
        with CONSUMER_BATCH.labels(self.name).time():
            outcomes = await self.applier.apply(records)
            dead = [outcome for outcome in outcomes.values() if isinstance(outcome, DeadLetter)]
            if dead:
                await self.publisher.publish([self._dead_letter_message(letter) for letter in dead])
        for record in records:
            outcome = outcomes[record.offset]
            label = "dead_lettered" if isinstance(outcome, DeadLetter) else outcome
            CONSUMED.labels(self.name, record.topic, label).inc()

    def _dead_letter_message(self, letter: DeadLetter) -> Message:
        message = letter.message(self.name, self.kafka.max_request_size)
        logger.error(
            "consumer %s: dead-lettered %s[%d]@%d: %s %s",
            self.name,
            letter.record.topic,
            letter.record.partition,
            letter.record.offset,
            letter.reason,
            letter.detail,
        )
        # The record's topic carries the prefix; the publisher adds it itself.
        return Message(
            message.topic.removeprefix(self._prefix), message.key, message.value, message.headers
        )


class BatchApplier:
    """The database half of the loop: a partition batch applied in PostgreSQL, with its applied
    marks, handlers and batch hook, and the outcome of each record. No broker: the loop feeds it
    what it fetched, and tests (`keel.testing.applying`) feed it messages directly."""

    def __init__(
        self, subscription: Subscription, sessions: SessionFactory, *, topic_prefix: str = ""
    ) -> None:
        self.subscription = subscription
        self.sessions = sessions
        self.name = subscription.name
        self._prefix = topic_prefix  # applied marks record logical topic names

    async def apply(self, records: Sequence[Record]) -> dict[int, str | DeadLetter]:
        """Outcome per record offset: applied, duplicate, or a dead letter with its reason."""
        outcomes: dict[int, str | DeadLetter] = {}
        decoded: list[tuple[Record, Event[Any]]] = []
        for record in records:
            parsed = self._decode(record)
            if isinstance(parsed, DeadLetter):
                outcomes[record.offset] = parsed
            else:
                decoded.append((record, parsed))
        outcomes.update(await self._apply_isolating_poison(decoded))
        return outcomes

    async def _apply_isolating_poison(
        self, decoded: Sequence[tuple[Record, Event[Any]]]
    ) -> dict[int, str | DeadLetter]:
        """Outcome per record offset: `decoded` applied in one transaction, handlers and batch
        hook alike. If that fails for a reason that is not transient, each half is applied the
        same way, in order, down to single events: an event that fails on its own is
        dead-lettered and every other event still applies. A transient failure propagates, so
        the caller retries the whole batch (parts already committed are then duplicates).
        """
        if not decoded:
            return {}
        try:
            return await self._apply_together(decoded)
        except Exception as error:
            if _is_transient(error):
                raise
            if len(decoded) == 1:
                [(record, event)] = decoded
                return {record.offset: self._poison(record, event, error)}
            middle = len(decoded) // 2
            first = await self._apply_isolating_poison(decoded[:middle])
            return first | await self._apply_isolating_poison(decoded[middle:])

    def _poison(self, record: Record, event: Event[Any], error: Exception) -> DeadLetter:
        exception = f"{type(error).__module__}.{type(error).__qualname__}"
        if isinstance(error, PoisonMessage):
            return DeadLetter(record, error.reason, error.detail, exception)
        if isinstance(error, AppError):
            return DeadLetter(record, error.slug, error.detail, exception)
        logger.exception("consumer %s: cannot apply %s", self.name, event.envelope.id)
        return DeadLetter(record, "handler_error", f"{type(error).__name__}: {error}", exception)

    def _decode(self, record: Record) -> Event[Any] | DeadLetter:
        try:
            return self.subscription.registry.parse(CloudEvent.from_json(record.value or b""))
        except ValidationError as error:
            return DeadLetter(record, "not_a_cloudevent", str(error))
        except EventRejected as error:
            return DeadLetter(record, error.reason, str(error))

    async def _apply_together(
        self, decoded: Sequence[tuple[Record, Event[Any]]]
    ) -> dict[int, str | DeadLetter]:
        """One transaction: applied or duplicate per record offset; any failure rolls it back."""
        outcomes: dict[int, str | DeadLetter] = {}
        applied: list[Event[Any]] = []
        async with self.sessions() as session:
            fresh = await self._mark_applied(session, decoded)
            for record, event in decoded:
                identity = (event.envelope.source, event.envelope.id)
                if identity not in fresh:
                    outcomes[record.offset] = "duplicate"
                    continue
                fresh.discard(identity)  # a second copy later in this batch is a duplicate
                handler = self.subscription.handlers.get(event.envelope.type)
                if handler is not None:
                    with tracing.processing(self.name, record, event.envelope.id):
                        await handler(session, event)
                outcomes[record.offset] = "applied"
                applied.append(event)
            if self.subscription.after_batch is not None and applied:
                with tracing.batch(self.name, [record for record, _ in decoded]):
                    await self.subscription.after_batch(session, applied)
            await session.commit()
        return outcomes

    async def _mark_applied(
        self, session: AsyncSession, decoded: Sequence[tuple[Record, Event[Any]]]
    ) -> set[tuple[str, str]]:
        """Record the batch's event ids at once; returns those this consumer had not applied."""
        if not decoded:
            return set()
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        for record, event in decoded:
            identity = (event.envelope.source, event.envelope.id)
            rows.setdefault(
                identity,
                {
                    "consumer": self.name,
                    "source": identity[0],
                    "event_id": identity[1],
                    "event_type": event.envelope.type,
                    "topic": record.topic.removeprefix(self._prefix),
                    "partition": record.partition,
                    "offset": record.offset,
                },
            )
        inserted = await session.execute(
            insert(AppliedEvent)
            .on_conflict_do_nothing()
            .returning(col(AppliedEvent.source), col(AppliedEvent.event_id)),
            list(rows.values()),
        )
        return {(row.source, row.event_id) for row in inserted}
