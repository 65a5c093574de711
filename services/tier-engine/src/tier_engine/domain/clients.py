"""T5: one partner's points client by client on an evaluated day, as known now: the deals inside
the sold window with the rates they were rated at (S2, S3, P2), and the managed credit standing
on the day with that day's rates (M7, P1-P3). Pure: the rows come from `repository`."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from keel.events.payloads.deal import DealType
from tier_engine.domain.calendar import counts_until
from tier_engine.domain.points import ManagedPoints, managed_points, points
from tier_engine.domain.rollup import Evaluation

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class DealPoints:
    row: Any
    registered: bool
    points: Decimal  # zero when S3 refuses the deal credit

    def counts_until(self, window_months: int) -> date:
        return counts_until(self.row.closed_on, window_months)


@dataclass(frozen=True, slots=True)
class CreditPoints:
    row: Any  # the ledger entry standing on the day
    managed: ManagedPoints


@dataclass
class ClientPoints:
    client_id: str
    country: str | None = None
    deals: list[DealPoints] = field(default_factory=list)
    credit: CreditPoints | None = None

    def sold(self, deal_type: DealType | None = None) -> Decimal:
        return sum(
            (d.points for d in self.deals if deal_type is None or d.row.deal_type == deal_type),
            ZERO,
        )

    @property
    def managed_points(self) -> Decimal:
        return self.credit.managed.points if self.credit else ZERO


def client_points(
    ev: Evaluation, deals: Iterable[Any], credit: Iterable[Any]
) -> list[ClientPoints]:
    """Every client with sold or managed credit for the partner on the evaluated day, from
    `repository.partner_deals` and `repository.partner_credit`."""
    clients: dict[str, ClientPoints] = defaultdict(lambda: ClientPoints(""))
    for row in deals:
        client = clients[row.client_id]
        client.client_id, client.country = row.client_id, row.client_country
        earned = points(row.mrr_delta, row.unit, row.rate) if row.registered else ZERO
        client.deals.append(DealPoints(row, row.registered, earned))
    for row in credit:
        if row.amount <= 0:
            continue
        client = clients[row.client_id]
        client.client_id, client.country = row.client_id, client.country or row.client_country
        managed = managed_points(ev.policy, ev.day, row.amount, row.currency, row.client_country)
        client.credit = CreditPoints(row, managed)
    return sorted(clients.values(), key=lambda c: c.client_id)
