"""Explain a credited tier from the stored document down to each client's deals and ledger
entries, with rule ids and policy versions, and whether today's live figures still match it."""

from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from keel.money import display
from tier_engine import repository
from tier_engine.domain.calendar import Month
from tier_engine.domain.clients import ClientPoints
from tier_engine.domain.policy import TierModel, TierPolicy, Track
from tier_engine.domain.rollup import Evaluation
from tier_engine.schemas import ExplainRead, RequirementRead
from tier_engine.service.breakdown import partner_clients
from tier_engine.service.figures import Stored, stored
from tier_engine.service.rollups import evaluation

ZERO = Decimal(0)


def _client_explained(client: ClientPoints, window_months: int) -> dict[str, Any]:
    credit = client.credit
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
                "effective_on": credit.row.effective_on.isoformat(),
                "amount": str(credit.row.amount),
                "currency": credit.row.currency,
                "denominator": credit.row.denominator,
                "ledger_rule": credit.row.rule,
                "ledger_event": credit.row.event_id,
                "cause": credit.row.cause,
                "unit": str(credit.managed.unit),
                "points_per_unit": str(credit.managed.rate.per_unit),
                "rule": credit.managed.rate.rule,
                "points": str(credit.managed.points),
            }
            if credit
            else None
        ),
    }


def _derivation(ev: Evaluation, found: Stored, model: TierModel) -> list[str]:
    document, figures = found.document, found.figures
    return [
        f"T3: {ev.month} evaluated on {ev.day}, revision {found.revision}; model "
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


async def explain(
    session: AsyncSession, policy: TierPolicy, partner_id: str, month: Month | None
) -> ExplainRead:
    """From the credited tier down to each client's deals and ledger entries, with rule ids."""
    found = await stored(session, partner_id, month)
    document = found.document
    ev = evaluation(policy, found.month)
    model = found.model(policy)
    versions = await repository.rollup_policy_versions(session, found.month, found.revision)
    clients = await partner_clients(session, ev, partner_id)
    figures = found.figures
    live_sold = sum((c.sold() for c in clients), ZERO)
    live_managed = sum((c.managed_points for c in clients), ZERO)
    matches = display(live_sold) == display(figures[Track.SOLD_POINTS]) and display(
        live_managed
    ) == display(figures[Track.MANAGED_POINTS])
    return ExplainRead(
        partner_id=partner_id,
        month=str(found.month),
        revision=found.revision,
        evaluated_on=ev.day,
        tier=document["tier"],
        derivation=_derivation(ev, found, model),
        model=model.model_dump(mode="json"),
        requirements=[RequirementRead(**r) for r in document["requirements"]],
        figures=document["figures"],
        policy_versions=versions or {},
        clients=[_client_explained(c, ev.window_months) for c in clients],
        live_matches_rollup=matches,
    )
