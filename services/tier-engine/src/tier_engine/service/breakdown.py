"""T5 reads, live (as known now): a partner's points client by client on a month's evaluated
day, and one client's history of deals and managed credit."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from keel.errors import NotFound
from keel.events.payloads.deal import DealType
from keel.money import display
from keel.policy import require_evaluable
from tier_engine import repository
from tier_engine.domain.calendar import Month, counts_until, latest_closed_month
from tier_engine.domain.clients import ClientPoints, client_points
from tier_engine.domain.points import managed_points, points
from tier_engine.domain.policy import TierPolicy
from tier_engine.domain.rollup import Evaluation
from tier_engine.schemas import (
    BreakdownQuery,
    BreakdownRead,
    ClientBreakdownRead,
    ClientHistoryRead,
    CreditHistoryRead,
    DealHistoryRead,
    DealStatus,
    MarketType,
    PointsRead,
    RateRead,
)
from tier_engine.service.rollups import evaluation

ZERO = Decimal(0)


async def partner_clients(
    session: AsyncSession, ev: Evaluation, partner_id: str
) -> list[ClientPoints]:
    """Every client with sold or managed credit for the partner on the evaluated day."""
    deals = await repository.partner_deals(session, ev, partner_id)
    credit = await repository.partner_credit(session, ev.day, partner_id)
    return client_points(ev, deals, credit)


def _market(policy: TierPolicy, day: date, country: str | None) -> MarketType:
    return MarketType.GROWTH if country in policy.growth_on(day).countries else MarketType.OTHER


def deal_rate(row: Any) -> RateRead:
    return RateRead.from_attributes(row, rule=row.rate_rule, points_per_unit=row.rate)


def _client_breakdown(
    policy: TierPolicy, ev: Evaluation, client: ClientPoints, deal_type: DealType | None
) -> ClientBreakdownRead:
    sourced, assisted = client.sold(DealType.SOURCED), client.sold(DealType.ASSISTED)
    sold = client.sold(deal_type)
    managed = client.managed_points if deal_type is None else ZERO
    rates = [deal_rate(d.row) for d in client.deals if deal_type in (None, d.row.deal_type)]
    if client.credit and deal_type is None:
        rate = client.credit.managed.rate
        rates.append(
            RateRead(
                rule=rate.rule,
                points_per_unit=rate.per_unit,
                currency=client.credit.row.currency,
                unit=client.credit.managed.unit,
                units_version=ev.units.version,
                rates_version=ev.rates.version,
            )
        )
    return ClientBreakdownRead(
        client_id=client.client_id,
        country=client.country,
        market_type=_market(policy, ev.day, client.country),
        sourced_points=display(sourced if deal_type in (None, DealType.SOURCED) else ZERO),
        assisted_points=display(assisted if deal_type in (None, DealType.ASSISTED) else ZERO),
        sold_points=display(sold),
        managed_points=display(managed),
        total_points=display(sold + managed),
        rates=rates,
    )


async def breakdown(
    session: AsyncSession,
    policy: TierPolicy,
    partner_id: str,
    wanted: BreakdownQuery,
    now: datetime,
) -> BreakdownRead:
    """T5: per client sold and managed points on the month's evaluated day, as known now."""
    month = Month.parse(wanted.month) if wanted.month else latest_closed_month(now.date())
    ev = evaluation(policy, month)
    clients = [
        _client_breakdown(policy, ev, client, wanted.deal_type)
        for client in await partner_clients(session, ev, partner_id)
        if wanted.market_type in (None, _market(policy, ev.day, client.country))
    ]
    clients = [c for c in clients if c.total_points or c.sold_points or c.managed_points]
    return BreakdownRead(
        partner_id=partner_id,
        month=str(month),
        evaluated_on=ev.day,
        filters={
            "deal_type": wanted.deal_type,
            "market_type": wanted.market_type,
        },
        totals=PointsRead(
            total=sum((c.total_points for c in clients), ZERO),
            sold=sum((c.sold_points for c in clients), ZERO),
            sourced=sum((c.sourced_points for c in clients), ZERO),
            assisted=sum((c.assisted_points for c in clients), ZERO),
            managed=sum((c.managed_points for c in clients), ZERO),
        ),
        clients=clients,
    )


def _status(registered: bool, closed_on: date, until: date, as_of: date) -> DealStatus:
    if not registered:
        return DealStatus.NOT_CREDITED
    if as_of < closed_on:
        return DealStatus.NOT_YET_CLOSED
    return DealStatus.ACTIVE if as_of <= until else DealStatus.EXPIRED


def _managed_points(policy: TierPolicy, day: date, entry: Any) -> Decimal:
    return managed_points(policy, day, entry.amount, entry.currency, entry.client_country).points


async def client_history(
    session: AsyncSession, policy: TierPolicy, partner_id: str, client_id: str, as_of: date
) -> ClientHistoryRead:
    """T5: the partner's deals and managed credit for one client over time, with the sold points
    still active on `as_of` and those expired (S2)."""
    window = policy.sold_window_on(require_evaluable(as_of, policy.first_day, "as_of")).months
    deals = await repository.client_deals(session, partner_id, client_id)
    entries = await repository.client_credit(session, partner_id, client_id)
    if not deals and not entries:
        raise NotFound(f"partner {partner_id} has no deals or managed credit for {client_id}")
    registered = await repository.registered_at_close(session, [d.deal_id for d in deals])
    history, active, expired = [], ZERO, ZERO
    for row in deals:
        earned = points(row.mrr_delta, row.unit, row.rate) if registered[row.deal_id] else ZERO
        until = counts_until(row.closed_on, window)
        status = _status(registered[row.deal_id], row.closed_on, until, as_of)
        if status is DealStatus.ACTIVE:
            active += earned
        elif status is DealStatus.EXPIRED:
            expired += earned
        history.append(
            DealHistoryRead.from_attributes(
                row,
                points=display(earned),
                rate=deal_rate(row),
                registered_at_close=registered[row.deal_id],
                counts_until=until,
                status=status,
            )
        )
    credit = [
        CreditHistoryRead.from_attributes(
            e, points=display(_managed_points(policy, e.effective_on, e))
        )
        for e in entries
    ]
    standing = [e for e in entries if e.effective_on <= as_of]
    current = max(standing, key=lambda e: (e.effective_on, e.recorded_at, e.id), default=None)
    return ClientHistoryRead(
        partner_id=partner_id,
        client_id=client_id,
        as_of=as_of,
        active_sold_points=display(active),
        expired_sold_points=display(expired),
        managed_points=display(_managed_points(policy, as_of, current) if current else ZERO),
        deals=history,
        managed_credit=credit,
    )
