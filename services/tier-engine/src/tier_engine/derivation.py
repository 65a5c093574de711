"""One partner's points client by client, as known now (T5): the deals inside the sold window with
the rates they were rated at, and the managed credit standing on the day with today's rates."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from keel.events.payloads.deal import DealType
from keel.months import add_months
from tier_engine import queries
from tier_engine.domain.points import managed_rate, points
from tier_engine.domain.policy import TierPolicy
from tier_engine.rollup import Evaluation


@dataclass(frozen=True, slots=True)
class DealPoints:
    row: Any
    registered: bool
    points: Decimal  # zero when S3 refuses the deal credit

    def counts_until(self, window_months: int) -> date:
        """S2: the last day the deal counts."""
        return add_months(self.row.closed_on, window_months) - timedelta(days=1)


@dataclass(frozen=True, slots=True)
class ManagedPoints:
    row: Any
    points: Decimal
    rate: Decimal
    rate_rule: str
    unit: Decimal


@dataclass
class ClientPoints:
    client_id: str
    country: str | None = None
    deals: list[DealPoints] = field(default_factory=list)
    managed: ManagedPoints | None = None

    def sold(self, deal_type: DealType | None = None) -> Decimal:
        return sum(
            (d.points for d in self.deals if deal_type is None or d.row.deal_type == deal_type),
            Decimal(0),
        )

    @property
    def managed_points(self) -> Decimal:
        return self.managed.points if self.managed else Decimal(0)


async def client_points(
    session: AsyncSession, policy: TierPolicy, ev: Evaluation, partner_id: str
) -> list[ClientPoints]:
    """Every client with sold or managed credit for the partner on the evaluated day."""
    clients: dict[str, ClientPoints] = defaultdict(lambda: ClientPoints(""))
    deals = await session.execute(
        queries.PARTNER_DEALS,
        {"partner_id": partner_id, "window_start": ev.window_start, "day": ev.day},
    )
    for row in deals:
        client = clients[row.client_id]
        client.client_id, client.country = row.client_id, row.client_country
        earned = points(row.mrr_delta, row.unit, row.rate) if row.registered else Decimal(0)
        client.deals.append(DealPoints(row, row.registered, earned))
    for row in await session.execute(
        queries.PARTNER_CREDIT, {"partner_id": partner_id, "day": ev.day}
    ):
        if row.amount <= 0:
            continue
        client = clients[row.client_id]
        client.client_id, client.country = row.client_id, client.country or row.client_country
        rate = managed_rate(policy, ev.day, row.client_country)
        unit = ev.units.unit(row.currency)
        client.managed = ManagedPoints(
            row, points(row.amount, unit, rate.per_unit), rate.per_unit, rate.rule, unit
        )
    return sorted(clients.values(), key=lambda c: c.client_id)
