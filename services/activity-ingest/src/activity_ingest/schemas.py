from typing import Literal

from pydantic import BaseModel

Status = Literal["accepted", "duplicate", "rejected"]


class FieldErrorRead(BaseModel):
    field: str
    reason: str


class EventResult(BaseModel):
    id: str | None
    source: str | None
    status: Status
    errors: list[FieldErrorRead] = []


class IngestReport(BaseModel):
    """One result per submitted event, in the order submitted, and the counts."""

    results: list[EventResult]
    accepted: int
    duplicate: int
    rejected: int
