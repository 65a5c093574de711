"""S, P and T rules as pure functions, with the worked examples of the program."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from keel.events.catalogue import EVENTS, EXAMPLE_TIME, MANAGED_CREDIT_CHANGED
from keel.events.payloads.account import PartnerType
from keel.events.payloads.credit import ManagedCreditChangedV1
from keel.events.payloads.deal import DealKind, DealType
from keel.events.payloads.tier import Tier
from keel.events.registry import Event
from keel.months import add_months
from tier_engine.domain.calendar import Month, latest_closed_month, sold_window_start
from tier_engine.domain.points import managed_rate, points, sold_rate, usd
from tier_engine.domain.policy import POLICY_DIR, TierPolicy, Track, UnknownCurrency
from tier_engine.domain.tiers import Standing, credited_tier, insights, median
from tier_engine.recording import credit_row

POLICY = TierPolicy.load()
D = Decimal


def sold_points(
    amount: str,
    closed_on: date,
    *,
    deal_type: DealType = DealType.SOURCED,
    kind: DealKind = DealKind.NEW,
    first_sold: date | None = None,
    country: str = "US",
    currency: str = "USD",
) -> Decimal:
    rate = sold_rate(
        POLICY,
        deal_type=deal_type,
        kind=kind,
        closed_on=closed_on,
        line_first_sold_on=first_sold or closed_on,
        country=country,
    )
    return points(D(amount), POLICY.units_on(closed_on).unit(currency), rate.per_unit)


def managed_points(
    amount: str, day: date, *, country: str = "US", currency: str = "USD"
) -> Decimal:
    rate = managed_rate(POLICY, day, country)
    return points(D(amount), POLICY.units_on(day).unit(currency), rate.per_unit)


def test_p1_p2_us_1000_managed_is_10_points_and_5_each_when_two_partners_split_it() -> None:
    assert managed_points("1000", date(2025, 3, 15)) == 10
    assert managed_points("500", date(2025, 3, 15)) == 5  # M7 split by two, then converted


def test_p2_a_2021_sale_of_1000_is_30_points_whatever_the_deal_type() -> None:
    assert sold_points("1000", date(2021, 6, 1)) == 30
    assert sold_points("1000", date(2021, 6, 1), deal_type=DealType.ASSISTED) == 30


def test_p2_from_2024_02_27_sourced_earns_5_and_assisted_3() -> None:
    assert sold_points("1000", date(2024, 3, 1), kind=DealKind.CROSS_SELL) == 50
    assert sold_points("1000", date(2024, 3, 1), deal_type=DealType.ASSISTED) == 30
    assert sold_points("1000", date(2024, 2, 26)) == 30  # the day before: still 3


def test_p2_an_upsell_on_a_line_first_sold_before_2024_02_27_keeps_3_per_unit() -> None:
    old_line = sold_points(
        "1000", date(2024, 6, 1), kind=DealKind.UPSELL, first_sold=date(2023, 5, 1)
    )
    new_line = sold_points(
        "1000", date(2024, 6, 1), kind=DealKind.UPSELL, first_sold=date(2024, 3, 1)
    )
    assert (old_line, new_line) == (30, 50)


def test_p3_growth_markets_double_points_by_the_client_country() -> None:
    day = date(2024, 6, 1)
    assert managed_points("1000", day, country="IN") == 20
    assert sold_points("1000", day, deal_type=DealType.ASSISTED, country="BR") == 60
    assert sold_points("1000", day, country="VN") == 100
    assert sold_points("1000", day, country="DE") == 50


def test_p1_eur_converts_at_75_before_2025_07_15_and_at_88_from_then() -> None:
    assert managed_points("750", date(2025, 7, 14), currency="EUR") == 10
    assert managed_points("880", date(2025, 7, 15), currency="EUR") == 10
    assert sold_points("750", date(2025, 7, 14), currency="EUR") == 50


def test_p1_a_currency_outside_the_table_is_an_error_not_zero() -> None:
    with pytest.raises(UnknownCurrency, match="BRL"):
        POLICY.units_on(date(2025, 1, 1)).unit("BRL")


def test_p4_points_keep_full_precision() -> None:
    third = managed_points("100", date(2025, 3, 15), currency="GBP")  # 100 / 62.50
    assert third == D("1.6")
    assert managed_points("100", date(2025, 3, 15), currency="EUR") == D(100) / D(75)


def test_t1_mrr_2018_dollar_values_use_the_point_unit() -> None:
    assert usd(D("62.50"), D("62.50")) == 100


@pytest.mark.parametrize(
    ("day", "months", "start"),
    [
        (date(2025, 3, 15), 12, date(2024, 3, 15)),
        (date(2025, 2, 28), 12, date(2024, 2, 28)),
        (date(2024, 2, 29), 12, date(2023, 2, 28)),
    ],
)
def test_s2_the_sold_window_starts_twelve_months_back(day: date, months: int, start: date) -> None:
    assert sold_window_start(day, months) == start


def test_s2_a_sale_13_months_old_is_outside_the_window() -> None:
    day = date(2025, 3, 15)
    start = sold_window_start(day, POLICY.sold_window_on(day).months)
    assert not start < add_months(day, -13) <= day
    assert start < add_months(day, -11) <= day


def test_t3_a_month_is_evaluated_on_its_15th_and_closes_when_that_day_is_over() -> None:
    assert Month.parse("2025-03").evaluated_on == date(2025, 3, 15)
    assert latest_closed_month(date(2025, 3, 15)) == Month(2025, 2)
    assert latest_closed_month(date(2025, 3, 16)) == Month(2025, 3)
    assert Month(2025, 1).shift(-1) == Month(2024, 12)


def figures(**values: str) -> dict[Track, Decimal]:
    found = {track: D(0) for track in Track}
    found.update({Track(name): D(value) for name, value in values.items()})
    return found


SOLUTIONS = Standing(PartnerType.SOLUTIONS, certified=True, median_apps=D(3))


# A day each tier model is in force on, and whether its thresholds are derived (T1).
IN_FORCE = {
    "mrr-2018": (date(2020, 5, 15), False),
    "points-2022": (date(2023, 1, 15), True),
    "points-2025": (date(2025, 8, 15), True),
}


@pytest.mark.parametrize(
    ("version", "values", "tier"),
    [
        # mrr-2018 needs both sold and managed MRR
        ("mrr-2018", {"sold_mrr_usd": "2100", "managed_mrr_usd": "6000"}, Tier.GOLD),
        ("mrr-2018", {"sold_mrr_usd": "10000", "managed_mrr_usd": "1124.99"}, Tier.PARTNER),
        ("mrr-2018", {"sold_mrr_usd": "10000", "managed_mrr_usd": "1125"}, Tier.SILVER),
        # points-2022: a total and a sold minimum, with derived thresholds
        ("points-2022", {"total_points": "123", "sold_points": "63"}, Tier.GOLD),
        ("points-2022", {"total_points": "5000", "sold_points": "62.999"}, Tier.PARTNER),
        ("points-2022", {"total_points": "3650", "sold_points": "1950"}, Tier.ELITE),
        # points-2025 raises the totals and counts sourced points only
        (
            "points-2025",
            {"total_points": "130", "sold_points": "200", "sourced_points": "62"},
            Tier.PARTNER,
        ),
        (
            "points-2025",
            {"total_points": "130", "sold_points": "63", "sourced_points": "63"},
            Tier.GOLD,
        ),
        ("points-2025", {"total_points": "129.99", "sourced_points": "63"}, Tier.PARTNER),
    ],
)
def test_t1_each_model_credits_the_tier_its_thresholds_reach(
    version: str, values: dict[str, str], tier: Tier
) -> None:
    day, derived = IN_FORCE[version]
    model = POLICY.model_on(day)
    assert (model.version, model.derived) == (version, derived)
    assert credited_tier(model, figures(**values), SOLUTIONS) == tier


def test_t2_mrr_2018_needs_certification_and_a_median_of_3_apps() -> None:
    model = POLICY.model_on(date(2020, 5, 15))
    diamond = figures(sold_mrr_usd="10000", managed_mrr_usd="50000")
    assert credited_tier(model, diamond, SOLUTIONS) == Tier.DIAMOND
    uncertified = Standing(PartnerType.SOLUTIONS, certified=False, median_apps=D(5))
    assert credited_tier(model, diamond, uncertified) == Tier.PARTNER
    few_apps = Standing(PartnerType.SOLUTIONS, certified=True, median_apps=D("2.5"))
    assert credited_tier(model, diamond, few_apps) == Tier.PARTNER
    assert median([2, 3]) == D("2.5")
    assert median([1, 5, 3]) == 3
    assert median([]) is None


def test_t2_providers_earn_points_but_have_no_tier() -> None:
    model = POLICY.model_on(date(2025, 8, 15))
    provider = Standing(PartnerType.PROVIDER, certified=True, median_apps=None)
    assert (
        credited_tier(model, figures(total_points="9999", sourced_points="9999"), provider) is None
    )


def test_t4_insights_give_the_minimum_to_keep_and_the_gap_to_the_next_tier() -> None:
    model = POLICY.model_on(date(2025, 8, 15))
    held = figures(total_points="200", sourced_points="100")
    by_track = {i.track: i for i in insights(model, held, Tier.GOLD)}
    total = by_track[Track.TOTAL_POINTS]
    assert (total.keep_minimum, total.next_tier, total.missing_for_next) == (
        130,
        Tier.PLATINUM,
        129,
    )
    assert by_track[Track.SOURCED_POINTS].missing_for_next == 13
    assert by_track[Track.MANAGED_POINTS].keep_minimum is None
    untiered = {i.track: i for i in insights(model, figures(), Tier.PARTNER)}
    assert untiered[Track.TOTAL_POINTS].next_tier == Tier.GOLD
    assert untiered[Track.TOTAL_POINTS].missing_for_next == 130


def test_policies_load_validated_and_reject_unordered_versions(tmp_path: Path) -> None:
    for path in POLICY_DIR.glob("*.toml"):
        (tmp_path / path.name).write_text(path.read_text())
    broken = (tmp_path / "rates.toml").read_text().replace("2024-02-27", "2017-01-01")
    (tmp_path / "rates.toml").write_text(broken)
    with pytest.raises(ValueError, match="increasing effective_from"):
        TierPolicy.load(tmp_path)


[_CREDIT_TYPE] = [spec for spec in EVENTS if spec.name == MANAGED_CREDIT_CHANGED]
EXAMPLE_CREDIT: ManagedCreditChangedV1 = _CREDIT_TYPE.example


class _CreditWithANewField(ManagedCreditChangedV1):
    """Version 1 of managed_credit.changed after an additive change the tier engine does not
    know yet."""

    reviewed_by: str = "ops"


def test_a_field_added_to_a_payload_within_its_version_is_not_a_column_to_insert() -> None:
    published = EVENTS.parse(
        EVENTS.envelope(
            MANAGED_CREDIT_CHANGED,
            EXAMPLE_CREDIT,
            id="c-1",
            source="credit-ledger",
            time=EXAMPLE_TIME,
        )
    )
    credit = _CreditWithANewField(**EXAMPLE_CREDIT.model_dump())
    row = credit_row(Event(published.envelope, credit, published.spec))
    assert "reviewed_by" not in row
    assert (row["event_id"], row["amount"]) == ("c-1", EXAMPLE_CREDIT.amount)
