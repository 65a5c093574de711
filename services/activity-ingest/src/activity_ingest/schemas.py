from datetime import datetime
from typing import Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

Status = Literal["accepted", "duplicate", "rejected"]


class FieldErrorRead(BaseModel):
    field: str
    reason: str


class EventResult(BaseModel):
    id: str | None
    source: str | None
    status: Status
    errors: list[FieldErrorRead] = Field(default_factory=list)


class IngestReport(BaseModel):
    """One result per submitted event, in the order submitted, and the counts."""

    results: list[EventResult]
    accepted: int
    duplicate: int
    rejected: int


class Replay(BaseModel):
    """Publish again the accepted events of [from, to), by ingest time or by event time."""

    model_config = ConfigDict(populate_by_name=True)

    start: AwareDatetime = Field(alias="from")
    end: AwareDatetime = Field(alias="to")
    by: Literal["ingested_at", "event_time"] = "ingested_at"
    types: list[str] = Field(default_factory=list, description="Only these types (all if empty)")

    @field_validator("end")
    @classmethod
    def _after_start(cls, end: datetime, info: ValidationInfo) -> datetime:
        start = info.data.get("start")
        if start is not None and end <= start:
            raise ValueError("must be after 'from'")
        return end


class ReplayRead(Replay):
    queued: int = Field(description="Events queued for publishing again")


class EventTypeRead(BaseModel):
    type: str
    version: int
    topic: str
    key: str = Field(description="The payload field used as the Kafka key")
    dataschema: str
    data_schema: dict[str, Any] = Field(alias="schema", description="JSON Schema of `data`")
    example: dict[str, Any] = Field(description="A complete CloudEvent of this type")

    model_config = ConfigDict(populate_by_name=True)


class EventTypeCatalogue(BaseModel):
    event_types: list[EventTypeRead]
