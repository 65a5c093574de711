"""T3, pure: a month evaluated on its 15th. Each partner's sums, standing and credited tier
become a canonical document; the digest of all documents identifies the result; a new revision
carries its diff against the previous one. No I/O: the rows come from `repository`."""

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from keel.events.catalogue import PARTNER_REGISTERED
from keel.events.payloads.account import PartnerType
from keel.events.payloads.deal import DealType
from keel.events.payloads.tier import Tier
from tier_engine.domain.calendar import Month, sold_window_start
from tier_engine.domain.points import managed_points, points, usd
from tier_engine.domain.policy import (
    CurrencyUnits,
    GrowthMarkets,
    Rates,
    TierModel,
    TierPolicy,
    Track,
)
from tier_engine.domain.tiers import Standing, credited_tier, median, requirements

AHEAD = 3  # T4: points expiring in each of the next three months
ZERO = Decimal(0)


def canonical(value: Decimal) -> str:
    """One spelling per number, so equal figures serialise to equal bytes."""
    return "0" if value == 0 else format(value.normalize(), "f")


def day_end(day: date) -> datetime:
    """Figures are as of the end of a UTC day: what was known before the next one began."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Month M evaluated on its 15th, with the policy versions in force that day."""

    policy: TierPolicy
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
            policy=policy,
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

    def window_starts_ahead(self) -> list[date]:
        return [sold_window_start(day, self.window_months) for day in self.ahead]

    def policy_versions(self) -> dict[str, str]:
        return {
            "tier_model": self.model.version,
            "currency_units": self.units.version,
            "rates": self.rates.version,
            "growth_markets": self.growth.version,
            "sold_window": f"{self.window_months} months",
        }


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


def tallies(ev: Evaluation, sold: Iterable[Any], managed: Iterable[Any]) -> dict[str, Tally]:
    """Per partner, the sums of `repository.sold_sums` and `repository.managed_sums`.

    A sold row's `lost_by` is the first coming month whose window no longer holds it (0: none).
    Managed rows are the standing credit on the day (k = 0) and on the next evaluated days."""
    found: dict[str, Tally] = defaultdict(Tally)
    for row in sold:
        tally = found[row.partner_id]
        earned = points(row.weighted, row.unit, Decimal(1))
        for k in range(AHEAD + 1):
            if row.lost_by == 0 or row.lost_by > k:
                tally.sold[k][row.deal_type] = tally.sold[k].get(row.deal_type, ZERO) + earned
        tally.sold_mrr_usd += usd(row.mrr, row.unit)
    for row in managed:
        tally = found[row.partner_id]
        credit = managed_points(ev.policy, ev.day, row.amount, row.currency, row.client_country)
        tally.managed[row.k] += credit.points
        if row.k == 0:
            tally.managed_mrr_usd += usd(row.amount, credit.unit)
    return found


def standings(
    rows: Iterable[Any], medians: Mapping[str, Decimal | None], tallied: Iterable[str]
) -> dict[str, Standing]:
    """T2: per partner with facts or figures, its type and certification as of the day (the
    latest fact of each kind) and its median app usage. Without `partner.registered` a partner
    is `solutions`; it is uncertified until told otherwise."""
    known: dict[str, dict[str, Any]] = defaultdict(dict)
    for row in rows:
        if row.kind == PARTNER_REGISTERED:
            known[row.partner_id]["partner_type"] = row.partner_type
        else:
            known[row.partner_id]["certified"] = row.certified
    return {
        partner_id: Standing(
            partner_type=PartnerType(
                known[partner_id].get("partner_type") or PartnerType.SOLUTIONS
            ),
            certified=bool(known[partner_id].get("certified")),
            median_apps=medians.get(partner_id),
        )
        for partner_id in sorted(set(known) | set(tallied))
    }


def medians(rows: Iterable[Any]) -> dict[str, Decimal | None]:
    """T2: per partner, the median of the apps used across the portals it is credited for."""
    used: dict[str, list[int]] = defaultdict(list)
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


def documents(
    ev: Evaluation, tallied: Mapping[str, Tally], standing: Mapping[str, Standing]
) -> list[dict[str, Any]]:
    """Every partner with figures or standing on the day, by partner id."""
    return [
        partner_document(ev, partner_id, tallied.get(partner_id, Tally()), standing[partner_id])
        for partner_id in sorted(standing)
    ]


def digest(ev: Evaluation, documents: list[dict[str, Any]]) -> str:
    body = {
        "month": str(ev.month),
        "evaluated_on": ev.day.isoformat(),
        "policy_versions": ev.policy_versions(),
        "partners": documents,
    }
    encoded = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(encoded.encode()).hexdigest()


def tier_counts(documents: list[dict[str, Any]]) -> dict[str, int]:
    return dict(sorted(Counter(d["tier"] or "none" for d in documents).items()))


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


def credited_before(tier: str | None, partner_type: str) -> str | None:
    """Until a tier is credited, a partner counts as untiered (providers have none)."""
    if tier is not None or partner_type == PartnerType.PROVIDER:
        return tier
    return Tier.PARTNER.value


def moved(
    documents: list[dict[str, Any]], tiers_before: Mapping[str, str | None]
) -> list[dict[str, Any]]:
    """The partners whose credited tier differs from the one credited before."""
    return [
        d
        for d in documents
        if d["tier"] != credited_before(tiers_before.get(d["partner_id"]), d["partner_type"])
    ]
