from typing import Annotated

from fastapi import Depends, Query, Request

from keel.errors import FieldError, ValidationFailed
from keel.events.payloads.tier import MonthText
from tier_engine.domain.calendar import Month
from tier_engine.domain.policy import TierPolicy


async def get_policy(request: Request) -> TierPolicy:
    policy: TierPolicy = request.app.state.policy
    return policy


async def get_month(
    month: Annotated[
        MonthText | None, Query(description="YYYY-MM; the newest rolled-up month when absent")
    ] = None,
) -> Month | None:
    return parse_month(month) if month else None


def parse_month(text: str, field: str = "month") -> Month:
    try:
        return Month.parse(text)
    except ValueError as error:
        raise ValidationFailed(str(error), errors=[FieldError(field, str(error))]) from None


PolicyDep = Annotated[TierPolicy, Depends(get_policy)]
MonthDep = Annotated[Month | None, Depends(get_month)]
