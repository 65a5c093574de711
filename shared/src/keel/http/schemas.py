"""The base of the models a service reads and answers over HTTP."""

from typing import Any, Self

from pydantic import BaseModel, ConfigDict


class Schema(BaseModel):
    """Refuses fields it does not declare (a misspelt query or body field is a 422, not ignored)."""

    model_config = ConfigDict(extra="forbid")

    @classmethod
    def from_attributes(cls, source: object, **derived: Any) -> Self:
        """The fields `source` holds under the same names, read as `from_attributes` reads them,
        with the derived ones given."""
        held = {
            name: getattr(source, name)
            for name in cls.model_fields.keys() - derived.keys()
            if hasattr(source, name)
        }
        return cls.model_validate(held | derived, from_attributes=True)
