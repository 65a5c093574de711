"""T3: the monthly rollup. Set-based SQL sums sold and managed credit per partner on the 15th;
each partner's figures, requirements and credited tier become a canonical document; the digest of
all documents identifies the result. Equal inputs give the equal digest and no new revision;
other inputs give a new revision beside the old one, with its diff, and `tier.changed` for every
partner whose credited tier moved."""

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from keel.events.catalogue import EVENTS
from keel.events.payloads.account import PartnerType
from keel.events.payloads.deal import DealType
from keel.events.payloads.tier import RollupCompletedV1, Tier, TierChangedV1
from keel.outbox import enqueue, event_message
from tier_engine import queries
from tier_engine.domain.calendar import Month, sold_window_start
from tier_engine.domain.points import points, usd
from tier_engine.domain.policy import (
    CurrencyUnits,
    GrowthMarkets,
    Rates,
    TierModel,
    TierPolicy,
    Track,
)
from tier_engine.domain.tiers import Standing, credited_tier, median, requirements
from tier_engine.tables import Rollup, RollupPartner

SOURCE = "tier-engine"
AHEAD = 3  # T4: points expiring in each of the next three months
ROLLUP: Table = Rollup.__table__  # type: ignore[attr-defined]
ROLLUP_PARTNER: Table = RollupPartner.__table__  # type: ignore[attr-defined]
LOCK_MONTH = text("SELECT pg_advisory_xact_lock(hashtext('rollup:' || :month))")
ZERO = Decimal(0)


def canonical(value: Decimal) -> str:
    """One spelling per number, so equal figures serialise to equal bytes."""
    return "0" if value == 0 else format(value.normalize(), "f")


def day_end(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Month M evaluated on its 15th, with the policy versions in force that day."""

    month: Month
    day: date
    ahead: tuple[date, ...]
    window_months: int
    model: TierModel
    units: CurrencyUnits
    rates: Rates
    growth: GrowthMarkets

    @classmethod
    def of(cls, policy: TierPolicy, month: Month) -> "Evaluation":
        day = month.evaluated_on
        return cls(
            month=month,
            day=day,
            ahead=tuple(month.shift(k).evaluated_on for k in range(1, AHEAD + 1)),
            window_months=policy.sold_window_on(day).months,
            model=policy.model_on(day),
            units=policy.units_on(day),
            rates=policy.rates_on(day),
            growth=policy.growth_on(day),
        )

    @property
    def window_start(self) -> date:
        return sold_window_start(self.day, self.window_months)

    def policy_versions(self) -> dict[str, str]:
        return {
            "tier_model": self.model.version,
            "currency_units": self.units.version,
            "rates": self.rates.version,
            "growth_markets": self.growth.version,
            "sold_window": f"{self.window_months} months",
        }

    def managed_points(self, amount: Decimal, currency: str, growth: bool) -> Decimal:
        rate = self.rates.managed * (self.growth.multiplier if growth else 1)
        return points(amount, self.units.unit(currency), rate)


@dataclass
class Tally:
    """One partner's sums: per horizon k (0 = the evaluated day, 1-3 = the next months)."""

    sold: dict[int, dict[str, Decimal]] = field(default_factory=lambda: defaultdict(dict))
    managed: dict[int, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    sold_mrr_usd: Decimal = ZERO
    managed_mrr_usd: Decimal = ZERO

    def sold_points(self, k: int, deal_type: DealType) -> Decimal:
        return self.sold[k].get(deal_type.value, ZERO)

    def figures(self, k: int) -> dict[Track, Decimal]:
        sourced = self.sold_points(k, DealType.SOURCED)
        assisted = self.sold_points(k, DealType.ASSISTED)
        managed = self.managed[k]
        return {
            Track.TOTAL_POINTS: sourced + assisted + managed,
            Track.SOLD_POINTS: sourced + assisted,
            Track.SOURCED_POINTS: sourced,
            Track.MANAGED_POINTS: managed,
            Track.SOLD_MRR_USD: self.sold_mrr_usd if k == 0 else ZERO,
            Track.MANAGED_MRR_USD: self.managed_mrr_usd if k == 0 else ZERO,
        }


async def _tallies(session: AsyncSession, ev: Evaluation) -> dict[str, Tally]:
    tallies: dict[str, Tally] = defaultdict(Tally)
    starts = [sold_window_start(day, ev.window_months) for day in ev.ahead]
    sold = await session.execute(
        queries.SOLD_SUMS,
        {
            "window_start": ev.window_start,
            "day": ev.day,
            **{f"lost_by_{k}": start for k, start in enumerate(starts, 1)},
        },
    )
    for row in sold:
        tally = tallies[row.partner_id]
        earned = points(row.weighted, row.unit, Decimal(1))
        for k in range(AHEAD + 1):
            if row.lost_by == 0 or row.lost_by > k:
                tally.sold[k][row.deal_type] = tally.sold[k].get(row.deal_type, ZERO) + earned
        tally.sold_mrr_usd += usd(row.mrr, row.unit)
    managed = await session.execute(
        queries.MANAGED_SUMS,
        {
            "day": ev.day,
            **{f"day_{k}": day for k, day in enumerate(ev.ahead, 1)},
            "known_by": day_end(ev.day),
            "growth": sorted(ev.growth.countries),
        },
    )
    for row in managed:
        tally = tallies[row.partner_id]
        tally.managed[row.k] += ev.managed_points(row.amount, row.currency, row.growth)
        if row.k == 0:
            tally.managed_mrr_usd += usd(row.amount, ev.units.unit(row.currency))
    return tallies


async def _standings(session: AsyncSession, ev: Evaluation) -> dict[str, dict[str, Any]]:
    """Partner type and certification as of the end of the evaluated day (T2)."""
    found: dict[str, dict[str, Any]] = defaultdict(dict)
    for row in await session.execute(queries.STANDINGS, {"day_end": day_end(ev.day)}):
        if row.kind == "partner.registered":
            found[row.partner_id]["partner_type"] = row.partner_type
        else:
            found[row.partner_id]["certified"] = row.certified
    return found


async def _median_apps(session: AsyncSession, ev: Evaluation) -> dict[str, Decimal | None]:
    """T2: the median app usage per partner, under every model that lists the apps: a
    requirement where the model sets a minimum, shown for display otherwise."""
    wanted = ev.model.requirements
    if not wanted.apps:
        return {}
    used: dict[str, list[int]] = defaultdict(list)
    rows = await session.execute(
        queries.PORTAL_APPS,
        {
            "window_start": ev.window_start,
            "day": ev.day,
            "day_end": day_end(ev.day),
            "apps": sorted(wanted.apps),
        },
    )
    for row in rows:
        used[row.partner_id].append(row.used)
    return {partner: median(counts) for partner, counts in used.items()}


def _figures_document(figures: Mapping[Track, Decimal]) -> dict[str, str]:
    return {track.value: canonical(value) for track, value in figures.items()}


def partner_document(
    ev: Evaluation, partner_id: str, tally: Tally, standing: Standing
) -> dict[str, Any]:
    """A partner's result in canonical form: what is stored, digested and served."""
    figures = tally.figures(0)
    tier = credited_tier(ev.model, figures, standing)
    return {
        "partner_id": partner_id,
        "partner_type": standing.partner_type.value,
        "certified": standing.certified,
        "median_apps": canonical(standing.median_apps)
        if standing.median_apps is not None
        else None,
        "model": ev.model.version,
        "tier": tier.value if tier else None,
        "figures": {
            **_figures_document(figures),
            "assisted_points": canonical(tally.sold_points(0, DealType.ASSISTED)),
        },
        "requirements": [
            {"name": r.name, "met": r.met, "detail": r.detail}
            for r in requirements(ev.model, standing)
        ],
        "projection": [
            {
                "month": str(ev.month.shift(k)),
                "evaluated_on": day.isoformat(),
                **_figures_document(
                    {t: v for t, v in tally.figures(k).items() if t.value.endswith("_points")}
                ),
            }
            for k, day in enumerate(ev.ahead, 1)
        ],
    }


async def evaluate(session: AsyncSession, ev: Evaluation) -> list[dict[str, Any]]:
    """Every partner with figures or standing on the day, by partner id."""
    tallies = await _tallies(session, ev)
    standings = await _standings(session, ev)
    medians = await _median_apps(session, ev)
    documents = []
    for partner_id in sorted(set(tallies) | set(standings)):
        known = standings.get(partner_id, {})
        standing = Standing(
            partner_type=PartnerType(known.get("partner_type") or PartnerType.SOLUTIONS),
            certified=bool(known.get("certified")),
            median_apps=medians.get(partner_id),
        )
        documents.append(partner_document(ev, partner_id, tallies[partner_id], standing))
    return documents


def digest(ev: Evaluation, documents: list[dict[str, Any]]) -> str:
    body = {
        "month": str(ev.month),
        "evaluated_on": ev.day.isoformat(),
        "policy_versions": ev.policy_versions(),
        "partners": documents,
    }
    encoded = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(encoded.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Outcome:
    month: str
    revision: int
    digest: str
    created: bool
    evaluated_on: date
    partners: int
    tier_counts: dict[str, int]
    tier_changes: int


async def _latest(session: AsyncSession, month: str) -> Any:
    return (
        await session.execute(
            select(ROLLUP)
            .where(ROLLUP.c.month == month)
            .order_by(ROLLUP.c.revision.desc())
            .limit(1)
        )
    ).first()


async def _previous_documents(
    session: AsyncSession, month: Month, latest: Any
) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """The documents the new revision is compared with (the month's latest revision) and the
    tiers credited before it (that revision, else the newest earlier month's)."""
    reference: tuple[str, int] | None
    if latest is not None:
        reference = (latest.month, latest.revision)
    else:
        earlier = (
            await session.execute(
                select(ROLLUP.c.month, func.max(ROLLUP.c.revision))
                .where(ROLLUP.c.month < str(month))
                .group_by(ROLLUP.c.month)
                .order_by(ROLLUP.c.month.desc())
                .limit(1)
            )
        ).first()
        reference = (earlier[0], earlier[1]) if earlier else None
    if reference is None:
        return {}, {}
    rows = await session.execute(
        select(ROLLUP_PARTNER.c.partner_id, ROLLUP_PARTNER.c.document).where(
            ROLLUP_PARTNER.c.month == reference[0], ROLLUP_PARTNER.c.revision == reference[1]
        )
    )
    documents = {row.partner_id: row.document for row in rows}
    same_month = documents if latest is not None else {}
    return same_month, {p: d["tier"] for p, d in documents.items()}


def diff(old: Mapping[str, dict[str, Any]], new: list[dict[str, Any]]) -> dict[str, Any]:
    """Per partner, what differs from the previous revision: tier, figures, requirements."""
    changed: dict[str, Any] = {}
    for document in new:
        before = old.get(document["partner_id"])
        if before == document:
            continue
        if before is None:
            changed[document["partner_id"]] = {"added": True, "tier": [None, document["tier"]]}
            continue
        entry: dict[str, Any] = {}
        for key in ("tier", "partner_type", "certified", "median_apps", "model"):
            if before.get(key) != document[key]:
                entry[key] = [before.get(key), document[key]]
        for track, value in document["figures"].items():
            if before["figures"].get(track) != value:
                entry[track] = [before["figures"].get(track), value]
        if before["requirements"] != document["requirements"]:
            entry["requirements"] = [before["requirements"], document["requirements"]]
        changed[document["partner_id"]] = entry or {"projection": True}
    new_ids = {d["partner_id"] for d in new}
    for partner_id in sorted(set(old) - new_ids):
        changed[partner_id] = {"removed": True, "tier": [old[partner_id]["tier"], None]}
    return changed


def _credited_before(tier: str | None, partner_type: str) -> str | None:
    """Until a tier is credited, a partner counts as untiered (providers have none)."""
    if tier is not None or partner_type == PartnerType.PROVIDER:
        return tier
    return Tier.PARTNER.value


async def run(session: AsyncSession, policy: TierPolicy, month: Month, now: datetime) -> Outcome:
    """Run (or re-run) the month's rollup in the caller's transaction."""
    ev = Evaluation.of(policy, month)
    await session.execute(LOCK_MONTH, {"month": str(month)})
    documents = await evaluate(session, ev)
    found = digest(ev, documents)
    counts = dict(sorted(Counter(d["tier"] or "none" for d in documents).items()))
    latest = await _latest(session, str(month))
    if latest is not None and latest.digest == found:
        return Outcome(
            str(month),
            latest.revision,
            found,
            False,
            ev.day,
            latest.partners,
            latest.tier_counts,
            0,
        )
    revision = latest.revision + 1 if latest is not None else 1
    same_month, tiers_before = await _previous_documents(session, month, latest)
    await session.execute(
        insert(ROLLUP).values(
            month=str(month),
            revision=revision,
            evaluated_on=ev.day,
            digest=found,
            partners=len(documents),
            tier_counts=counts,
            policy_versions=ev.policy_versions(),
            changes=(
                {"previous_revision": latest.revision, "partners": diff(same_month, documents)}
                if latest is not None
                else {}
            ),
            created_at=now,
        )
    )
    if documents:
        await session.execute(
            insert(ROLLUP_PARTNER),
            [
                {
                    "month": str(month),
                    "revision": revision,
                    "partner_id": d["partner_id"],
                    "partner_type": d["partner_type"],
                    "model": d["model"],
                    "tier": d["tier"],
                    "document": d,
                }
                for d in documents
            ],
        )
    moved = [
        d
        for d in documents
        if d["tier"] != _credited_before(tiers_before.get(d["partner_id"]), d["partner_type"])
    ]
    await enqueue(
        session,
        [
            *(
                _tier_changed(ev, revision, d, tiers_before.get(d["partner_id"]), now)
                for d in moved
            ),
            _rollup_completed(ev, revision, found, len(documents), counts, now),
        ],
    )
    return Outcome(str(month), revision, found, True, ev.day, len(documents), counts, len(moved))


def _tier_changed(
    ev: Evaluation, revision: int, document: dict[str, Any], before: str | None, now: datetime
) -> Any:
    payload = TierChangedV1(
        partner_id=document["partner_id"],
        month=str(ev.month),
        revision=revision,
        tier=document["tier"],
        previous_tier=before,
        partner_type=document["partner_type"],
        model=document["model"],
        evaluated_on=ev.day,
    )
    envelope = EVENTS.envelope(
        "tier.changed",
        payload,
        id=f"tier-{ev.month}-r{revision}-{document['partner_id']}",
        source=SOURCE,
        time=now,
        subject=document["partner_id"],
    )
    return event_message(EVENTS.parse(envelope))


def _rollup_completed(
    ev: Evaluation, revision: int, found: str, partners: int, counts: dict[str, int], now: datetime
) -> Any:
    payload = RollupCompletedV1(
        month=str(ev.month),
        revision=revision,
        digest=found,
        evaluated_on=ev.day,
        partners=partners,
        tier_counts=counts,
    )
    envelope = EVENTS.envelope(
        "rollup.completed", payload, id=f"rollup-{ev.month}-r{revision}", source=SOURCE, time=now
    )
    return event_message(EVENTS.parse(envelope))
