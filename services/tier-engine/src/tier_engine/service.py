"""Use cases of the tier engine: the one place that commits."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from keel.errors import Conflict, FieldError, NotFound, ValidationFailed
from keel.events.payloads.deal import DealKind, DealType
from keel.events.payloads.tier import Tier
from keel.money import display
from keel.months import add_months
from tier_engine import queries, repository, rollup
from tier_engine.derivation import ClientPoints, client_points
from tier_engine.domain.calendar import Month, latest_closed_month
from tier_engine.domain.points import Rate, managed_rate, points, sold_rate
from tier_engine.domain.policy import TierModel, TierPolicy, Track, UnknownCurrency
from tier_engine.domain.tiers import insights
from tier_engine.rollup import ROLLUP, ROLLUP_PARTNER, Evaluation, Outcome
from tier_engine.schemas import (
    BreakdownQuery,
    BreakdownRead,
    ClientBreakdownRead,
    ClientHistoryRead,
    CreditHistoryRead,
    CurrencyConversion,
    CurrencyConverted,
    DealHistoryRead,
    Direction,
    ExpiringRead,
    ExplainRead,
    InsightsRead,
    MarketType,
    PartnerTierRead,
    PointsCalculation,
    PointsEstimate,
    PointsRead,
    ProgressMonthRead,
    ProgressRead,
    RateRead,
    RequirementRead,
    RollupRead,
    TrackInsightRead,
)

ZERO = Decimal(0)


def _evaluation(policy: TierPolicy, month: Month) -> Evaluation:
    try:
        return Evaluation.of(policy, month)
    except LookupError as error:
        raise ValidationFailed(f"month {month}: {error}") from None


async def run_rollup(
    session: AsyncSession, policy: TierPolicy, month: Month, now: datetime
) -> Outcome:
    """T3 on demand: a month can be rolled up once its evaluated day (the 15th) is over."""
    if month > latest_closed_month(now.date()):
        raise Conflict(
            f"month {month} is evaluated on {month.evaluated_on}; its rollup can run once "
            "that day is over"
        )
    _evaluation(policy, month)
    try:
        outcome = await rollup.run(session, policy, month, now)
    except UnknownCurrency as error:
        raise Conflict(f"rollup {month}: {error}") from None
    await session.commit()
    return outcome


async def run_scheduled_rollup(
    session: AsyncSession, policy: TierPolicy, month: Month, now: datetime
) -> Outcome | None:
    """The month's first revision, unless it exists."""
    if await session.scalar(select(ROLLUP.c.revision).where(ROLLUP.c.month == str(month))):
        return None
    return await run_rollup(session, policy, month, now)


async def read_rollup(session: AsyncSession, month: Month, revision: int | None) -> RollupRead:
    rows = (
        await session.execute(
            select(ROLLUP).where(ROLLUP.c.month == str(month)).order_by(ROLLUP.c.revision)
        )
    ).all()
    chosen = [r for r in rows if revision is None or r.revision == revision]
    if not chosen:
        raise NotFound(f"no rollup for {month}" + (f" revision {revision}" if revision else ""))
    row = chosen[-1]
    return RollupRead(
        month=row.month,
        revision=row.revision,
        revisions=[r.revision for r in rows],
        digest=row.digest,
        evaluated_on=row.evaluated_on,
        created_at=row.created_at,
        partners=row.partners,
        tier_counts=row.tier_counts,
        policy_versions=row.policy_versions,
        changes=row.changes,
    )


@dataclass(frozen=True, slots=True)
class Stored:
    month: Month
    revision: int
    document: dict[str, Any]


async def _stored(session: AsyncSession, partner_id: str, month: Month | None) -> Stored:
    """The partner's document in the month's latest revision (the newest month if none given)."""
    query = select(ROLLUP_PARTNER.c.month, ROLLUP_PARTNER.c.revision, ROLLUP_PARTNER.c.document)
    query = query.where(ROLLUP_PARTNER.c.partner_id == partner_id)
    if month is not None:
        query = query.where(ROLLUP_PARTNER.c.month == str(month))
    row = (
        await session.execute(
            query.order_by(ROLLUP_PARTNER.c.month.desc(), ROLLUP_PARTNER.c.revision.desc()).limit(1)
        )
    ).first()
    if row is None:
        where = f"the rollup of {month}" if month else "any rollup"
        raise NotFound(f"partner {partner_id} has no figures in {where}")
    return Stored(Month.parse(row.month), row.revision, row.document)


def _figures(document: dict[str, Any]) -> dict[Track, Decimal]:
    return {track: Decimal(document["figures"][track.value]) for track in Track}


def _points(figures: dict[str, str]) -> PointsRead:
    def shown(name: str) -> Decimal:
        return display(Decimal(figures.get(name, "0")))

    return PointsRead(
        total=shown("total_points"),
        sold=shown("sold_points"),
        sourced=shown("sourced_points"),
        assisted=shown("assisted_points"),
        managed=shown("managed_points"),
    )


def _expiring(document: dict[str, Any]) -> list[ExpiringRead]:
    """T4: per coming month, the points that stop counting by its evaluated day."""
    found = []
    before = document["figures"]
    for step in document["projection"]:

        def lost(
            name: str, step: dict[str, Any] = step, before: dict[str, Any] = before
        ) -> Decimal:
            return display(max(Decimal(before[name]) - Decimal(step[name]), ZERO))

        found.append(
            ExpiringRead(
                month=step["month"],
                evaluated_on=step["evaluated_on"],
                total=lost("total_points"),
                sold=lost("sold_points"),
                managed=lost("managed_points"),
            )
        )
        before = step
    return found


def _model(policy: TierPolicy, document: dict[str, Any]) -> TierModel:
    return next(m for m in policy.tier_models if m.version == document["model"])


async def partner_tier(
    session: AsyncSession, policy: TierPolicy, partner_id: str, month: Month | None
) -> PartnerTierRead:
    stored = await _stored(session, partner_id, month)
    document = stored.document
    model = _model(policy, document)
    tier = Tier(document["tier"]) if document["tier"] else None
    figures = _figures(document)
    return PartnerTierRead(
        partner_id=partner_id,
        month=str(stored.month),
        revision=stored.revision,
        evaluated_on=stored.month.evaluated_on,
        model=model.version,
        model_derived=model.derived,
        partner_type=document["partner_type"],
        tier=document["tier"],
        certified=document["certified"],
        median_apps=Decimal(document["median_apps"])
        if document["median_apps"] is not None
        else None,
        points=_points(document["figures"]),
        mrr_usd={
            "sold": display(figures[Track.SOLD_MRR_USD]),
            "managed": display(figures[Track.MANAGED_MRR_USD]),
        },
        requirements=[RequirementRead(**r) for r in document["requirements"]],
        insights=InsightsRead(
            tracks=[
                TrackInsightRead(
                    track=i.track.value,
                    value=display(i.value),
                    keep_minimum=i.keep_minimum,
                    next_tier=i.next_tier.value if i.next_tier else None,
                    next_minimum=i.next_minimum,
                    missing_for_next=display(i.missing_for_next)
                    if i.missing_for_next is not None
                    else None,
                )
                for i in insights(model, figures, tier)
            ],
            expiring=_expiring(document),
        ),
    )


def _market(policy: TierPolicy, day: date, country: str | None) -> MarketType:
    return MarketType.GROWTH if country in policy.growth_on(day).countries else MarketType.OTHER


def _deal_rate(row: Any) -> RateRead:
    return RateRead(
        deal_id=row.deal_id,
        rule=row.rate_rule,
        points_per_unit=row.rate,
        currency=row.currency,
        unit=row.unit,
        units_version=row.units_version,
        rates_version=row.rates_version,
    )


def _client_breakdown(
    policy: TierPolicy, ev: Evaluation, client: ClientPoints, deal_type: DealType | None
) -> ClientBreakdownRead:
    sourced, assisted = client.sold(DealType.SOURCED), client.sold(DealType.ASSISTED)
    sold = client.sold(deal_type)
    managed = client.managed_points if deal_type is None else ZERO
    rates = [_deal_rate(d.row) for d in client.deals if deal_type in (None, d.row.deal_type)]
    if client.managed and deal_type is None:
        rates.append(
            RateRead(
                rule=client.managed.rate_rule,
                points_per_unit=client.managed.rate,
                currency=client.managed.row.currency,
                unit=client.managed.unit,
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


def _month_or_latest(month: Month | None, now: datetime) -> Month:
    return month or latest_closed_month(now.date())


async def breakdown(
    session: AsyncSession,
    policy: TierPolicy,
    partner_id: str,
    wanted: BreakdownQuery,
    now: datetime,
) -> BreakdownRead:
    """T5: per client sold and managed points on the month's evaluated day, as known now."""
    month = _month_or_latest(Month.parse(wanted.month) if wanted.month else None, now)
    ev = _evaluation(policy, month)
    clients = [
        _client_breakdown(policy, ev, client, wanted.deal_type)
        for client in await client_points(session, policy, ev, partner_id)
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


async def client_history(
    session: AsyncSession, policy: TierPolicy, partner_id: str, client_id: str, as_of: date
) -> ClientHistoryRead:
    """T5: the partner's deals and managed credit for one client over time, with the sold points
    still active on `as_of` and those expired (S2)."""
    window = policy.sold_window_on(as_of).months
    deals = await repository.client_deals(session, partner_id, client_id)
    entries = await repository.client_credit(session, partner_id, client_id)
    if not deals and not entries:
        raise NotFound(f"partner {partner_id} has no deals or managed credit for {client_id}")
    registered = await _registered_at_close(session, [d.deal_id for d in deals])
    history, active, expired = [], ZERO, ZERO
    for row in deals:
        earned = points(row.mrr_delta, row.unit, row.rate) if registered[row.deal_id] else ZERO
        until = add_months(row.closed_on, window) - timedelta(days=1)
        status = (
            "not_credited"
            if not registered[row.deal_id]
            else "active"
            if row.closed_on <= as_of <= until
            else "expired"
        )
        if status == "active":
            active += earned
        elif status == "expired" and until < as_of:
            expired += earned
        history.append(
            DealHistoryRead(
                deal_id=row.deal_id,
                closed_on=row.closed_on,
                deal_type=row.deal_type,
                kind=row.kind,
                product_line=row.product_line,
                mrr_delta=row.mrr_delta,
                currency=row.currency,
                points=display(earned),
                rate=_deal_rate(row),
                registered_at_close=registered[row.deal_id],
                counts_until=until,
                status=status,
            )
        )
    credit = [
        CreditHistoryRead(
            effective_on=e.effective_on,
            amount=e.amount,
            currency=e.currency,
            denominator=e.denominator,
            points=display(_managed_points(policy, e.effective_on, e)),
            rule=e.rule,
            recorded_at=e.recorded_at,
            cause=e.cause,
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


def _managed_points(policy: TierPolicy, day: date, entry: Any) -> Decimal:
    rate = managed_rate(policy, day, entry.client_country)
    return points(entry.amount, policy.units_on(day).unit(entry.currency), rate.per_unit)


async def _registered_at_close(session: AsyncSession, deal_ids: list[str]) -> dict[str, bool]:
    if not deal_ids:
        return {}
    rows = await session.execute(queries.DEALS_REGISTERED, {"ids": deal_ids})
    return {row.deal_id: row.registered for row in rows}


async def progress(
    session: AsyncSession, partner_id: str, months: int, now: datetime
) -> ProgressRead:
    """T5: sold, managed and total points per month from the rollups (latest revisions), then
    the next 3 months projected from known expiries."""
    last = latest_closed_month(now.date())
    wanted = [last.shift(-k) for k in range(months - 1, -1, -1)]
    rows = await session.execute(
        select(ROLLUP_PARTNER.c.month, ROLLUP_PARTNER.c.revision, ROLLUP_PARTNER.c.document)
        .where(
            ROLLUP_PARTNER.c.partner_id == partner_id,
            ROLLUP_PARTNER.c.month.in_([str(m) for m in wanted]),
        )
        .order_by(ROLLUP_PARTNER.c.month, ROLLUP_PARTNER.c.revision)
    )
    latest = {row.month: row for row in rows}  # ordered by revision: the last one stays
    found = []
    for month in wanted:
        row = latest.get(str(month))
        figures = row.document["figures"] if row else None
        found.append(
            ProgressMonthRead(
                month=str(month),
                evaluated_on=month.evaluated_on,
                revision=row.revision if row else None,
                tier=row.document["tier"] if row else None,
                sold=display(Decimal(figures["sold_points"])) if figures else None,
                managed=display(Decimal(figures["managed_points"])) if figures else None,
                total=display(Decimal(figures["total_points"])) if figures else None,
            )
        )
    newest = latest.get(str(last))
    for step in newest.document["projection"] if newest else []:
        found.append(
            ProgressMonthRead(
                month=step["month"],
                evaluated_on=step["evaluated_on"],
                revision=None,
                tier=None,
                sold=display(Decimal(step["sold_points"])),
                managed=display(Decimal(step["managed_points"])),
                total=display(Decimal(step["total_points"])),
                projected=True,
            )
        )
    return ProgressRead(partner_id=partner_id, months=found)


def _client_explained(client: ClientPoints, window_months: int) -> dict[str, Any]:
    return {
        "client_id": client.client_id,
        "country": client.country,
        "sold_points": str(client.sold()),
        "managed_points": str(client.managed_points),
        "deals": [
            {
                "deal_id": d.row.deal_id,
                "closed_on": d.row.closed_on.isoformat(),
                "deal_type": d.row.deal_type,
                "kind": d.row.kind,
                "mrr_delta": str(d.row.mrr_delta),
                "currency": d.row.currency,
                "unit": str(d.row.unit),
                "points_per_unit": str(d.row.rate),
                "rule": f"S1 {d.row.kind}; {d.row.rate_rule}",
                "versions": [d.row.units_version, d.row.rates_version, d.row.growth_version],
                "registered_at_close": d.registered,
                "counts_until": d.counts_until(window_months).isoformat(),
                "points": str(d.points),
            }
            for d in client.deals
        ],
        "managed_credit": (
            {
                "effective_on": client.managed.row.effective_on.isoformat(),
                "amount": str(client.managed.row.amount),
                "currency": client.managed.row.currency,
                "denominator": client.managed.row.denominator,
                "ledger_rule": client.managed.row.rule,
                "ledger_event": client.managed.row.event_id,
                "cause": client.managed.row.cause,
                "unit": str(client.managed.unit),
                "points_per_unit": str(client.managed.rate),
                "rule": client.managed.rate_rule,
                "points": str(client.managed.points),
            }
            if client.managed
            else None
        ),
    }


async def explain(
    session: AsyncSession, policy: TierPolicy, partner_id: str, month: Month | None
) -> ExplainRead:
    """From the credited tier down to each client's deals and ledger entries, with rule ids."""
    stored = await _stored(session, partner_id, month)
    document = stored.document
    ev = _evaluation(policy, stored.month)
    model = _model(policy, document)
    versions = await session.scalar(
        select(ROLLUP.c.policy_versions).where(
            ROLLUP.c.month == str(stored.month), ROLLUP.c.revision == stored.revision
        )
    )
    clients = await client_points(session, policy, ev, partner_id)
    figures = _figures(document)
    live_sold = sum((c.sold() for c in clients), ZERO)
    live_managed = sum((c.managed_points for c in clients), ZERO)
    matches = display(live_sold) == display(figures[Track.SOLD_POINTS]) and display(
        live_managed
    ) == display(figures[Track.MANAGED_POINTS])
    derivation = [
        f"T3: {stored.month} evaluated on {ev.day}, revision {stored.revision}; model "
        f"{model.version} (T1{', derived thresholds' if model.derived else ''})",
        *(
            f"T2: {r['name']}: {'met' if r['met'] else 'not met'} ({r['detail']})"
            for r in document["requirements"]
        ),
        *(
            f"T1: {t.tier} needs "
            + " and ".join(f"{track} >= {minimum}" for track, minimum in t.thresholds.items())
            + (": met" if all(figures[k] >= v for k, v in t.thresholds.items()) else ": not met")
            for t in model.tiers
        ),
        f"credited tier: {document['tier'] or 'none (provider partners have no tier, T2)'}",
        f"S2/S3: sold points from deals closed after {ev.window_start} and on or before {ev.day},"
        " under a registration of the client's domain at close where the policy requires it",
        "P1/P2/P3: points = MRR / point unit (local currency worth US$100) x rate, doubled in "
        "growth markets; sold at the rates in force at close, managed at those of the day",
        f"M7: managed points from the managed credit the ledger recorded for {ev.day}",
        f"totals: sold {figures[Track.SOLD_POINTS]} + managed {figures[Track.MANAGED_POINTS]} = "
        f"{figures[Track.TOTAL_POINTS]}",
    ]
    return ExplainRead(
        partner_id=partner_id,
        month=str(stored.month),
        revision=stored.revision,
        evaluated_on=ev.day,
        tier=document["tier"],
        derivation=derivation,
        model=model.model_dump(mode="json"),
        requirements=[RequirementRead(**r) for r in document["requirements"]],
        figures=document["figures"],
        policy_versions=versions or {},
        clients=[_client_explained(c, ev.window_months) for c in clients],
        live_matches_rollup=matches,
    )


def _unit(policy: TierPolicy, currency: str, day: date) -> Decimal:
    try:
        return policy.units_on(day).unit(currency)
    except UnknownCurrency as error:
        raise ValidationFailed(str(error), errors=[FieldError("currency", str(error))]) from None


def _rate_read(rate: Rate, currency: str, unit: Decimal, units_version: str) -> RateRead:
    return RateRead(
        rule=rate.rule,
        points_per_unit=rate.per_unit,
        currency=currency,
        unit=unit,
        units_version=units_version,
        rates_version=rate.rates_version,
    )


def _calculator_rates(
    policy: TierPolicy, currency: str, country: str, deal_type: DealType, day: date
) -> tuple[Decimal, Rate, Rate]:
    unit = _unit(policy, currency, day)
    sold = sold_rate(
        policy,
        deal_type=deal_type,
        kind=DealKind.NEW,
        closed_on=day,
        line_first_sold_on=day,
        country=country,
    )
    return unit, sold, managed_rate(policy, day, country)


def estimate_points(policy: TierPolicy, wanted: PointsCalculation, today: date) -> PointsEstimate:
    """T6: a new deal of `amount` a month, and its managed share if the partner manages it too
    (split evenly with the other managing partners, M7)."""
    day = wanted.on or today
    unit, sold, managed = _calculator_rates(
        policy, wanted.currency, wanted.country, wanted.deal_type, day
    )
    sold_points = points(wanted.amount, unit, sold.per_unit)
    share = wanted.amount / (wanted.other_managing_partners + 1)
    managed_points = points(share, unit, managed.per_unit) if wanted.will_manage else ZERO
    version = policy.units_on(day).version
    return PointsEstimate(
        sold_points=display(sold_points),
        managed_points=display(managed_points),
        total_points=display(sold_points + managed_points),
        growth_market=sold.growth_factor != 1,
        rates=[
            _rate_read(sold, wanted.currency, unit, version),
            _rate_read(managed, wanted.currency, unit, version),
        ],
    )


def convert_currency(
    policy: TierPolicy, wanted: CurrencyConversion, today: date
) -> CurrencyConverted:
    """T6 currency mode: points <-> local currency for sold and managed values."""
    day = wanted.on or today
    unit, sold, managed = _calculator_rates(
        policy, wanted.currency, wanted.country, wanted.deal_type, day
    )
    to_points = wanted.direction is Direction.CURRENCY_TO_POINTS

    def convert(value: Decimal | None, rate: Rate) -> Decimal | None:
        if value is None:
            return None
        result = points(value, unit, rate.per_unit) if to_points else value * unit / rate.per_unit
        return display(result)

    version = policy.units_on(day).version
    return CurrencyConverted(
        direction=wanted.direction,
        currency=wanted.currency,
        sold_points=convert(wanted.sold_value, sold) if to_points else wanted.sold_points,
        managed_points=convert(wanted.managed_value, managed)
        if to_points
        else wanted.managed_points,
        sold_value=wanted.sold_value if to_points else convert(wanted.sold_points, sold),
        managed_value=wanted.managed_value
        if to_points
        else convert(wanted.managed_points, managed),
        rates=[
            _rate_read(sold, wanted.currency, unit, version),
            _rate_read(managed, wanted.currency, unit, version),
        ],
    )
