"""Money and points are Decimal (P4): full precision kept, half-up to 2 places for display."""

from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

from pydantic import Field, PlainSerializer

CENT = Decimal("0.01")

# A Decimal that travels as a JSON string so no client parses it into a float.
Amount = Annotated[
    Decimal,
    Field(allow_inf_nan=False),
    PlainSerializer(lambda value: str(value), return_type=str, when_used="json"),
]


def display(value: Decimal) -> Decimal:
    """Round half-up to 2 decimals; only for showing a figure, never before comparing or summing."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)
