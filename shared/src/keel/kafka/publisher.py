"""The one producer of a process. Acks from all in-sync replicas; idempotence is a setting."""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from aiokafka import AIOKafkaProducer

from keel import tracing
from keel.settings import KafkaSettings

Headers = Sequence[tuple[str, bytes]]


@dataclass(frozen=True, slots=True)
class Message:
    topic: str
    key: str
    value: bytes
    headers: Headers = field(default_factory=tuple)


class Publisher:
    def __init__(self, settings: KafkaSettings) -> None:
        self.settings = settings
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        producer = AIOKafkaProducer(
            **self.settings.connection_options(),
            acks="all",
            enable_idempotence=self.settings.enable_idempotence,
            linger_ms=self.settings.linger_ms,
            max_request_size=self.settings.max_request_size,
        )
        await producer.start()
        self._producer = producer

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def publish(self, messages: Sequence[Message]) -> None:
        """Send all, then wait until every one is acknowledged; topics are logical names."""
        if self._producer is None:
            raise RuntimeError("Publisher.start() was not awaited")
        topics = [self.settings.topic(message.topic) for message in messages]
        with tracing.sending(messages, topics) as headers:
            pending = [
                await self._producer.send(
                    topic, key=message.key.encode(), value=message.value, headers=list(traced)
                )
                for message, topic, traced in zip(messages, topics, headers, strict=True)
            ]
            await asyncio.gather(*pending)
