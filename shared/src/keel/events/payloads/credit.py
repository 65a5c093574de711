"""Credit family, topic `credit.events.v1`, keyed by partner id: produced by the credit-ledger."""

from datetime import date
from typing import Annotated

from pydantic import AwareDatetime, Field, StringConstraints

from keel.events.payloads.common import Country, Currency, Identifier, NonNegativeAmount, Payload

RuleId = Annotated[str, StringConstraints(pattern=r"^[MSPTC][1-9]$")]


class ManagedCreditChangedV1(Payload):
    """From `effective_on`, the partner's managed credit for the client is `amount` (M7): a
    ledger entry, a correction when it rewrites a day already published."""

    partner_id: Identifier
    client_id: Identifier
    effective_on: date
    amount: NonNegativeAmount
    currency: Currency
    denominator: int = Field(ge=0, description="How many partners share the client that day")
    client_country: Country | None = None
    rule: RuleId = Field(description="The rule that made the change, e.g. M5")
    cause: list[str] = Field(description="The events (source/id) behind the change")
    recorded_at: AwareDatetime
