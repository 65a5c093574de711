"""D6: tier point changes over [from, to]. Pure: per client points at both ends in."""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class ClientPoints:
    sold: Decimal
    managed: Decimal


@dataclass(frozen=True, slots=True)
class ClientChange:
    client_id: str
    before: Decimal
    after: Decimal

    @property
    def change(self) -> Decimal:
        return self.after - self.before


@dataclass(frozen=True, slots=True)
class PointChanges:
    new_sold: tuple[ClientChange, ...]
    lost_sold: tuple[ClientChange, ...]
    new_managed: tuple[ClientChange, ...]
    lost_managed: tuple[ClientChange, ...]


def point_changes(
    before: Mapping[str, ClientPoints], after: Mapping[str, ClientPoints]
) -> PointChanges:
    """D6: per client, the change of its sold and managed points between the two evaluations;
    increases are new points, decreases lost points, each with the clients behind it. A client
    absent at one end has no points there."""
    empty = ClientPoints(ZERO, ZERO)
    clients = sorted(set(before) | set(after))
    sold = [ClientChange(c, before.get(c, empty).sold, after.get(c, empty).sold) for c in clients]
    managed = [
        ClientChange(c, before.get(c, empty).managed, after.get(c, empty).managed) for c in clients
    ]
    return PointChanges(
        new_sold=tuple(c for c in sold if c.change > 0),
        lost_sold=tuple(c for c in sold if c.change < 0),
        new_managed=tuple(c for c in managed if c.change > 0),
        lost_managed=tuple(c for c in managed if c.change < 0),
    )
