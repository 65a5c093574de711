"""CloudEvents 1.0, JSON structured mode. Identity of an event is (`source`, `id`)."""

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

STRUCTURED_CONTENT_TYPE = "application/cloudevents+json"
BATCH_CONTENT_TYPE = "application/cloudevents-batch+json"

NonEmpty = Annotated[str, StringConstraints(min_length=1, max_length=512)]


class CloudEvent(BaseModel):
    """The envelope. `data` is checked against the payload model of `type` by the registry."""

    # Extension attributes are allowed by the spec and kept as they came.
    model_config = ConfigDict(extra="allow", frozen=True)

    specversion: Literal["1.0"]
    id: NonEmpty
    source: NonEmpty
    type: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")]
    time: AwareDatetime = Field(description="When it happened (event time), with a UTC offset")
    subject: str | None = None
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: str | None = None
    data: dict[str, Any]

    def to_json(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> "CloudEvent":
        return cls.model_validate_json(raw)
