"""Apply events to a service's database exactly as its consumer loop does (applied-event marks,
handlers, batch hook, poison isolation), without a broker: for tests whose subject is not
messaging."""

from collections.abc import Sequence
from dataclasses import dataclass, field

from keel.db import SessionFactory
from keel.kafka.consumer import BatchApplier, DeadLetter, Subscription
from keel.kafka.publisher import Message


@dataclass(slots=True)
class _Record:  # as the broker hands it to the loop (keel.kafka.consumer.Record)
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]] = field(default_factory=tuple)


async def apply_messages(
    subscription: Subscription, sessions: SessionFactory, messages: Sequence[Message]
) -> dict[int, str]:
    """Apply `messages` as one partition batch; the outcome of each (applied or duplicate) by
    position. A message the consumer would dead-letter fails the calling test."""
    records = [
        _Record(m.topic, 0, offset, m.key.encode(), m.value, tuple(m.headers))
        for offset, m in enumerate(messages)
    ]
    outcomes = await BatchApplier(subscription, sessions).apply(records)
    dead = {o: r for o, r in outcomes.items() if isinstance(r, DeadLetter)}
    if dead:
        reasons = ", ".join(f"#{o} {r.reason}: {r.detail}" for o, r in sorted(dead.items()))
        raise AssertionError(f"the consumer would dead-letter {reasons}")
    return {offset: str(outcome) for offset, outcome in sorted(outcomes.items())}
