"""A partner's clients (D1) and their engagement (D4), and the clients table's search, filter
and order. Pure: rows and the day in, rows out."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from keel.months import add_months
from partner_portal.domain.policy import EngagementVersion, IndexVersion


class Relationship(StrEnum):
    MANAGED = "managed"
    SOLD = "sold"
    BOTH = "both"


class Band(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


def relationship(managed: bool, sold: bool) -> Relationship | None:
    """D1: managed (M1, as the ledger credits it), sold (a counting deal, S2), both, or none:
    then the client is not the partner's on the day."""
    if managed and sold:
        return Relationship.BOTH
    if managed:
        return Relationship.MANAGED
    if sold:
        return Relationship.SOLD
    return None


def sold_after(day: date, index: IndexVersion) -> date:
    """D1: on `day` a deal keeps its client `sold` when it closed after this day (and on or
    before `day`): the tier engine's sold window (S2), for the list only."""
    return add_months(day, -index.sold_window_months)


@dataclass(frozen=True, slots=True)
class Engagement:
    score: int
    band: Band
    derived: bool  # True: derived from the apps in use by a `derived` policy, not from upstream
    policy_version: str | None


def band_of(score: int, version: EngagementVersion) -> Band:
    """D4: low 0-3, medium 4-6, high 7-10 (as the policy's lower bounds say)."""
    if score >= version.bands.high:
        return Band.HIGH
    if score >= version.bands.medium:
        return Band.MEDIUM
    return Band.LOW


def engagement(upstream: int | None, apps_in_use: int, version: EngagementVersion) -> Engagement:
    """D4: the upstream score when one arrived, else one derived from the apps in use."""
    if upstream is not None:
        return Engagement(upstream, band_of(upstream, version), False, None)
    score = min(10, apps_in_use * version.points_per_app)
    return Engagement(score, band_of(score, version), version.derived, version.version)


@dataclass(frozen=True, slots=True)
class ClientRow:
    """One line of the clients table, from the portal's own facts."""

    client_id: str
    name: str
    domain: str
    relationship: Relationship
    products: tuple[str, ...]
    apps: tuple[str, ...]
    engagement: Engagement
    mrr: Decimal | None
    currency: str | None
    next_renewal_on: date | None


class Sort(StrEnum):
    NAME = "name"
    MRR = "mrr"
    RENEWAL_DATE = "renewal_date"
    ENGAGEMENT = "engagement"


class Order(StrEnum):
    ASC = "asc"
    DESC = "desc"


def select_rows(
    rows: Sequence[ClientRow],
    *,
    query: str | None,
    wanted: Relationship | None,
    sort: Sort,
    order: Order,
) -> list[ClientRow]:
    """Search name and domain (case-insensitive), keep one relationship, order; rows without
    the sort value (no MRR, no renewal) come last either way; ties by name, then id."""
    needle = (query or "").strip().lower()
    kept = [
        row
        for row in rows
        if (wanted is None or row.relationship is wanted)
        and (not needle or needle in row.name.lower() or needle in row.domain)
    ]
    kept.sort(key=lambda row: (row.name.lower(), row.client_id))
    if sort is Sort.NAME:
        if order is Order.DESC:
            kept.reverse()
        return kept
    present = [row for row in kept if _value(row, sort) is not None]
    missing = [row for row in kept if _value(row, sort) is None]
    present.sort(key=lambda row: _value(row, sort), reverse=order is Order.DESC)  # type: ignore[arg-type, return-value]
    return present + missing


def _value(row: ClientRow, sort: Sort) -> Decimal | date | int | None:
    if sort is Sort.MRR:
        return row.mrr
    if sort is Sort.RENEWAL_DATE:
        return row.next_renewal_on
    return row.engagement.score
