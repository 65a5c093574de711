"""Money and points are Decimal (P4): full precision kept, half-up to 2 places for display."""

from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

from pydantic import Field, PlainSerializer, WithJsonSchema

CENT = Decimal("0.01")
# What the published JSON Schema says an amount may be: a number, or a string holding one (the
# validation refuses any other string, so the schema says so too).
DECIMAL_TEXT = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"

# A Decimal that travels as a JSON string so no client parses it into a float.
Amount = Annotated[
    Decimal,
    Field(allow_inf_nan=False),
    PlainSerializer(lambda value: str(value), return_type=str, when_used="json"),
    WithJsonSchema(
        {"anyOf": [{"type": "number"}, {"type": "string", "pattern": DECIMAL_TEXT}]},
        mode="validation",
    ),
]


def display(value: Decimal) -> Decimal:
    """Round half-up to 2 decimals; only for showing a figure, never before comparing or summing."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)
