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
from sqlalchemy import delete
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


@dataclass(frozen=True, slots=True)
class Subscription:
    """What one consumer group reads and how each event type is applied.

    Types on the topics without a handler are acknowledged (recorded as applied) and ignored.
    `after_batch`, when given, runs once per batch in the same transaction, after the handlers,
    with the events they applied: for work that is cheaper per batch than per event.
    """

    name: str
    topics: Sequence[str]
    handlers: Mapping[str, Handler]
    registry: EventRegistry
    after_batch: BatchHook | None = None


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
        """Apply a partition batch in one transaction, then dead-letter what cannot be applied.

        The batch first runs without savepoints; if a handler fails on a message, the whole
        transaction is rolled back and the batch runs again with a savepoint per message, so
        that one message is dead-lettered and the others still apply.
        """
        with CONSUMER_BATCH.labels(self.name).time():
            outcomes: dict[int, str | DeadLetter] = {}
            decoded: list[tuple[Record, Event[Any]]] = []
            for index, record in enumerate(records):
                parsed = self._decode(record)
                if isinstance(parsed, DeadLetter):
                    outcomes[index] = parsed
                else:
                    decoded.append((record, parsed))
            try:
                applied = await self._apply_decoded(decoded, careful=False)
            except _HandlerFailed:
                applied = await self._apply_decoded(decoded, careful=True)
            by_offset = {record.offset: index for index, record in enumerate(records)}
            for offset, outcome in applied.items():
                outcomes[by_offset[offset]] = outcome
            dead = [outcome for outcome in outcomes.values() if isinstance(outcome, DeadLetter)]
            if dead:
                await self.publisher.publish([self._dead_letter_message(letter) for letter in dead])
        for index, record in enumerate(records):
            outcome = outcomes[index]
            label = "dead_lettered" if isinstance(outcome, DeadLetter) else outcome
            CONSUMED.labels(self.name, record.topic, label).inc()

    def _dead_letter_message(self, letter: DeadLetter) -> Message:
        message = letter.message(self.name)
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

    def _decode(self, record: Record) -> Event[Any] | DeadLetter:
        try:
            return self.subscription.registry.parse(CloudEvent.from_json(record.value or b""))
        except ValidationError as error:
            return DeadLetter(record, "not_a_cloudevent", str(error))
        except EventRejected as error:
            return DeadLetter(record, error.reason, str(error))

    async def _apply_decoded(
        self, decoded: Sequence[tuple[Record, Event[Any]]], *, careful: bool
    ) -> dict[int, str | DeadLetter]:
        """Outcome per record offset: applied, duplicate, or a dead letter (careful mode only)."""
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
                        failure = await self._handle(session, handler, event, careful=careful)
                    if failure is not None:
                        outcomes[record.offset] = DeadLetter(record, *failure)
                        await self._unmark(session, event)
                        continue
                outcomes[record.offset] = "applied"
                applied.append(event)
            if self.subscription.after_batch is not None and applied:
                with tracing.batch(self.name, [record for record, _ in decoded]):
                    await self.subscription.after_batch(session, applied)
            await session.commit()
        return outcomes

    async def _handle(
        self, session: AsyncSession, handler: Handler, event: Event[Any], *, careful: bool
    ) -> tuple[str, str] | None:
        """Run one handler; in careful mode, inside a savepoint, returning why it cannot apply."""
        if not careful:
            try:
                await handler(session, event)
            except Exception as error:
                if _is_transient(error):
                    raise
                raise _HandlerFailed from error
            return None
        try:
            async with session.begin_nested():
                await handler(session, event)
        except PoisonMessage as error:
            return error.reason, error.detail
        except AppError as error:
            return error.slug, error.detail
        except Exception as error:
            if _is_transient(error):
                raise
            logger.exception("consumer %s: handler failed on %s", self.name, event.envelope.id)
            return "handler_error", f"{type(error).__name__}: {error}"
        return None

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

    async def _unmark(self, session: AsyncSession, event: Event[Any]) -> None:
        """A dead-lettered event is not applied: a replay after a fix may apply it."""
        await session.execute(
            delete(AppliedEvent).where(
                col(AppliedEvent.consumer) == self.name,
                col(AppliedEvent.source) == event.envelope.source,
                col(AppliedEvent.event_id) == event.envelope.id,
            )
        )


class _HandlerFailed(Exception):
    """A handler failed in the fast path: redo the batch with a savepoint per message."""
