"""The rollup's pure parts, with no database: tallies over sold and managed rows (S2, T4),
standing (T2), documents, digests and diffs (T3), and the calculator (T6)."""

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

from keel.events.payloads.account import PartnerType
from tier_engine.domain import rollup
from tier_engine.domain.calculator import estimate_points
from tier_engine.domain.calendar import Month
from tier_engine.domain.policy import TierPolicy, Track
from tier_engine.schemas import PointsCalculation

POLICY = TierPolicy.load()
EV = rollup.Evaluation.of(POLICY, Month(2025, 9))


def sold(partner_id: str, weighted: str, lost_by: int, deal_type: str = "sourced") -> object:
    return SimpleNamespace(
        partner_id=partner_id,
        deal_type=deal_type,
        unit=Decimal(100),
        lost_by=lost_by,
        weighted=Decimal(weighted),
        mrr=Decimal(weighted) / 5,
    )


def managed(partner_id: str, k: int, amount: str, country: str = "US") -> object:
    return SimpleNamespace(
        partner_id=partner_id, k=k, currency="USD", client_country=country, amount=Decimal(amount)
    )


def test_s2_sold_points_leave_the_projection_from_the_month_their_window_ends() -> None:
    tallied = rollup.tallies(EV, [sold("p-1", "5000", 0), sold("p-1", "3000", 2)], [])
    totals = [tallied["p-1"].figures(k)[Track.SOLD_POINTS] for k in range(rollup.AHEAD + 1)]
    assert totals == [Decimal(80), Decimal(80), Decimal(50), Decimal(50)]


def test_p3_managed_points_double_in_a_growth_market() -> None:
    tallied = rollup.tallies(EV, [], [managed("p-1", 0, "1000"), managed("p-2", 0, "1000", "IN")])
    assert tallied["p-1"].figures(0)[Track.MANAGED_POINTS] == Decimal(10)
    assert tallied["p-2"].figures(0)[Track.MANAGED_POINTS] == Decimal(20)


def test_t2_a_partner_without_facts_stands_as_an_uncertified_solutions_partner() -> None:
    facts = [SimpleNamespace(partner_id="p-1", kind="partner.registered", partner_type="provider")]
    standing = rollup.standings(facts, {}, ["p-2"])
    assert standing["p-1"].partner_type is PartnerType.PROVIDER
    assert (standing["p-2"].partner_type, standing["p-2"].certified) == (
        PartnerType.SOLUTIONS,
        False,
    )


def test_t3_equal_documents_give_the_equal_digest_and_no_diff() -> None:
    tallied = rollup.tallies(EV, [sold("p-1", "5000", 0)], [managed("p-1", 0, "1000")])
    documents = rollup.documents(EV, tallied, rollup.standings([], {}, tallied))
    again = rollup.documents(EV, tallied, rollup.standings([], {}, tallied))
    assert rollup.digest(EV, documents) == rollup.digest(EV, again)
    assert rollup.diff({d["partner_id"]: d for d in documents}, again) == {}


def test_t3_a_diff_names_the_changed_figures_and_the_partners_added_and_removed() -> None:
    def evaluated(*rows: object) -> list[dict[str, object]]:
        tallied = rollup.tallies(EV, rows, [])
        return rollup.documents(EV, tallied, rollup.standings([], {}, tallied))

    before = evaluated(sold("p-1", "5000", 0), sold("p-2", "100", 0))
    after = evaluated(sold("p-1", "6000", 0), sold("p-3", "100", 0))
    changes = rollup.diff({d["partner_id"]: d for d in before}, after)
    assert changes["p-1"]["sold_points"] == ["50", "60"]
    assert changes["p-2"] == {"removed": True, "tier": ["partner", None]}
    assert changes["p-3"]["added"] is True


def test_t3_until_a_tier_is_credited_a_partner_counts_as_untiered_and_a_provider_as_none() -> None:
    assert rollup.credited_before(None, PartnerType.SOLUTIONS.value) == "partner"
    assert rollup.credited_before(None, PartnerType.PROVIDER.value) is None
    assert rollup.credited_before("gold", PartnerType.SOLUTIONS.value) == "gold"


def test_t6_us_1000_sourced_with_one_other_managing_partner_is_50_sold_and_5_managed() -> None:
    wanted = PointsCalculation(
        amount=Decimal(1000),
        currency="USD",
        country="US",
        will_manage=True,
        other_managing_partners=1,
    )
    estimate = estimate_points(POLICY, wanted, date(2025, 9, 1))
    assert (estimate.sold_points, estimate.managed_points) == (Decimal(50), Decimal(5))
