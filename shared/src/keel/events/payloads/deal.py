"""Deal family, topic `deal.events.v1`, keyed by partner id."""

from decimal import Decimal
from enum import StrEnum

from pydantic import Field, ValidationInfo, field_validator

from keel.events.payloads.common import (
    Country,
    Currency,
    Identifier,
    Payload,
    Slug,
    WebsiteDomain,
)
from keel.money import Amount


class DealType(StrEnum):
    SOURCED = "sourced"
    ASSISTED = "assisted"


class DealKind(StrEnum):
    NEW = "new"
    CROSS_SELL = "cross_sell"
    UPSELL = "upsell"
    DOWNGRADE = "downgrade"
    CHURN = "churn"


LOSSES = frozenset({DealKind.DOWNGRADE, DealKind.CHURN})


class DealClosedV1(Payload):
    """A deal that credits the partner with sold MRR (S1); the event time is the close date."""

    deal_id: Identifier
    partner_id: Identifier
    client_id: Identifier
    client_domain: WebsiteDomain
    client_country: Country
    currency: Currency
    deal_type: DealType
    product_line: Slug
    kind: DealKind
    mrr_delta: Amount = Field(description="Negative for downgrades and churn (lost points), S1")

    @field_validator("mrr_delta")
    @classmethod
    def _sign_matches_kind(cls, delta: Decimal, info: ValidationInfo) -> Decimal:
        kind = info.data.get("kind")  # absent when kind itself was invalid
        if kind in LOSSES and delta >= 0:
            raise ValueError(f"must be negative for a {kind} (S1)")
        if kind is not None and kind not in LOSSES and delta <= 0:
            raise ValueError(f"must be positive for a {kind} deal (S1)")
        return delta
