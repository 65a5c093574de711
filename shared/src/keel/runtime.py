"""What a running process holds once: its settings, database engine, session factory and clock."""

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from keel import tracing
from keel.clock import Clock, SystemClock
from keel.db import SessionFactory, create_engine, create_session_factory
from keel.settings import Settings


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: SessionFactory
    clock: Clock = field(default_factory=SystemClock)

    @classmethod
    def create(cls, settings: Settings, clock: Clock | None = None) -> "Runtime":
        engine = create_engine(settings.database)
        tracing.instrument_engine(engine, settings.service.name)
        return cls(settings, engine, create_session_factory(engine), clock or SystemClock())

    async def close(self) -> None:
        await self.engine.dispose()
