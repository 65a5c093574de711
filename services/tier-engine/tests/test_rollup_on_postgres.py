"""T3 rollups on the real database: sold and managed points per partner on the 15th, the
credited tier, digests and revisions (S1-S4, P1-P4, T1-T4)."""

from decimal import Decimal

from tier_story import TierStory, deal_closed

from keel.events.payloads.account import PartnerType
from keel.events.payloads.deal import DealKind, DealType
from tier_engine.domain.calendar import Month
from tier_engine.service.rollups import read_rollup


def figure(document: dict, track: str) -> Decimal:  # type: ignore[type-arg]
    return Decimal(document["figures"][track])


async def rolled_up(story: TierStory, month: str, track: str) -> Decimal:
    """The month rolled up at the story's clock, and p-1's figure on the track."""
    await story.rollup(month)
    return figure(await story.document("p-1", month), track)


async def test_t3_worked_examples_add_up_to_the_credited_tier(story: TierStory) -> None:
    story.partner("p-1")
    story.deal("p-1", "c-1", "1000", "2024-06-01", kind=DealKind.CROSS_SELL)  # 50 sourced
    story.deal("p-1", "c-2", "1000", "2024-09-01", deal_type=DealType.ASSISTED)  # 30 assisted
    story.credit("p-1", "c-3", "1000", "2025-01-10")  # 10 managed
    story.credit("p-1", "c-4", "500", "2025-02-01", denominator=2)  # 5: split by two (M7)
    story.credit("p-1", "c-5", "1000", "2025-03-01", country="IN")  # 20: growth market (P3)
    outcome = await story.rollup("2025-03")
    document = await story.document("p-1", "2025-03")
    assert (outcome.revision, outcome.created, outcome.partners) == (1, True, 1)
    assert figure(document, "sourced_points") == 50
    assert figure(document, "assisted_points") == 30
    assert figure(document, "managed_points") == 35
    assert figure(document, "total_points") == 115
    assert document["model"] == "points-2022"
    assert document["tier"] == "partner"  # 115 < 123 (T1 derived Gold)
    story.credit("p-1", "c-6", "800", "2025-03-15")  # 8 more: 123 total, 80 sold
    outcome = await story.rollup("2025-03")
    assert (outcome.revision, (await story.document("p-1", "2025-03"))["tier"]) == (2, "gold")


async def test_s2_a_sale_13_months_old_no_longer_counts(story: TierStory) -> None:
    story.partner("p-1")
    story.deal("p-1", "c-1", "1000", "2024-02-10")  # 13 months before 2025-03-15
    story.deal("p-1", "c-2", "1000", "2024-03-16")  # inside the window (P2: 5 per unit)
    assert await rolled_up(story, "2025-03", "sold_points") == 50


async def test_s1_downgrades_and_churn_subtract_lost_points(story: TierStory) -> None:
    story.partner("p-1")
    story.deal("p-1", "c-1", "1000", "2024-06-01")
    story.deal("p-1", "c-1", "-400", "2024-08-01", kind=DealKind.DOWNGRADE)
    assert await rolled_up(story, "2025-03", "sold_points") == 30


async def test_s3_a_deal_earns_sold_credit_only_under_a_registration_held_at_close(
    story: TierStory,
) -> None:
    story.partner("p-1")
    story.registration("p-1", "held", since="2024-05-01")
    story.registration("p-1", "late", since="2024-07-02")
    story.registration("p-1", "dropped", since="2024-01-01", until="2024-06-01")
    for client in ("held", "late", "dropped", "never"):
        story.add(deal_closed("p-1", client, "1000", "2024-07-01"))
    assert await rolled_up(story, "2025-03", "sold_points") == 50


async def test_s4_a_deal_after_the_15th_counts_from_the_next_monthly_rollup(
    story: TierStory,
) -> None:
    story.partner("p-1")
    story.deal("p-1", "c-1", "1000", "2025-03-20")
    assert await rolled_up(story, "2025-03", "sold_points") == 0
    story.clock.current = story.clock.current.replace(month=4, day=20)
    assert await rolled_up(story, "2025-04", "sold_points") == 50


async def test_p2_an_upsell_is_rated_again_when_an_earlier_sale_of_its_line_arrives(
    story: TierStory,
) -> None:
    story.partner("p-1")
    story.deal("p-1", "c-1", "1000", "2024-06-01", kind=DealKind.UPSELL)
    await story.apply()
    story.deal("p-1", "c-1", "100", "2023-01-10", line="sales_hub")  # another line: no effect
    assert await rolled_up(story, "2025-03", "sold_points") == 50
    story.deal("p-1", "c-1", "100", "2023-01-10")  # the line was first sold before 2024-02-27
    assert await rolled_up(story, "2025-03", "sold_points") == 30  # 3 per unit


async def test_m7_managed_points_read_the_entry_standing_on_the_15th_latest_recorded_wins(
    story: TierStory,
) -> None:
    story.partner("p-1")
    story.credit("p-1", "c-1", "1000", "2025-02-01")
    story.credit("p-1", "c-1", "600", "2025-02-01", recorded="2025-02-05")  # a correction
    story.credit("p-1", "c-1", "0", "2025-03-16")  # expires after the evaluated day
    story.credit("p-1", "c-2", "2000", "2025-01-01")
    story.credit("p-1", "c-2", "0", "2025-03-10")  # expired before it
    assert await rolled_up(story, "2025-03", "managed_points") == 6


async def test_p1_eur_credit_converts_at_the_table_in_force_on_the_evaluated_day(
    story: TierStory,
) -> None:
    story.partner("p-1")
    story.credit("p-1", "c-1", "880", "2025-06-01", currency="EUR", country="DE")
    story.clock.current = story.clock.current.replace(year=2025, month=8, day=1)
    await story.rollup("2025-06")
    await story.rollup("2025-07")
    assert figure(await story.document("p-1", "2025-06"), "managed_points") == Decimal(880) / 75
    assert figure(await story.document("p-1", "2025-07"), "managed_points") == 10


async def test_t2_mrr_2018_credits_by_usd_mrr_with_certification_and_median_apps(
    story: TierStory,
) -> None:
    story.clock.current = story.clock.current.replace(year=2020, month=4)
    story.partner("p-1")
    story.partner("p-2", certified=False)
    for partner in ("p-1", "p-2"):
        story.deal(partner, f"{partner}-a", "2100", "2019-11-01")
        story.credit(partner, f"{partner}-b", "6000", "2020-01-01")
        story.apps(f"{partner}-a", ["crm", "email", "forms", "not_an_app"], "2020-01-01")
        story.apps(f"{partner}-b", ["crm", "email", "workflows"], "2020-01-01")
    await story.rollup("2020-03")
    gold = await story.document("p-1", "2020-03")
    assert (gold["model"], gold["tier"], gold["median_apps"]) == ("mrr-2018", "gold", "3")
    assert figure(gold, "sold_mrr_usd") == 2100
    assert (await story.document("p-2", "2020-03"))["tier"] == "partner"
    story.apps("p-1-a", ["crm"], "2020-02-01")  # median of 1 and 3 is 2: below 3
    await story.rollup("2020-03")
    assert (await story.document("p-1", "2020-03"))["tier"] == "partner"


async def test_t2_the_median_app_usage_is_reported_under_the_points_models_without_deciding(
    story: TierStory,
) -> None:
    story.partner("p-1")
    story.credit("p-1", "c-1", "20000", "2025-03-01")  # 200 managed points
    story.deal("p-1", "c-1", "1400", "2025-01-10")  # 70 sold points: Gold (123 / 63)
    story.apps("c-1", ["crm"], "2025-03-01")
    await story.rollup("2025-03")
    document = await story.document("p-1", "2025-03")
    # One portal using one listed app: median 1, below mrr-2018's 3, yet points-2022 credits.
    assert (document["model"], document["median_apps"], document["tier"]) == (
        "points-2022",
        "1",
        "gold",
    )


async def test_t2_providers_get_points_but_no_tier(story: TierStory) -> None:
    story.partner("p-1", partner_type=PartnerType.PROVIDER)
    story.credit("p-1", "c-1", "100000", "2025-03-01")
    await story.rollup("2025-03")
    document = await story.document("p-1", "2025-03")
    assert (document["tier"], figure(document, "total_points")) == (None, 1000)


async def test_t3_a_rerun_with_unchanged_inputs_gives_the_same_digest_and_no_revision(
    story: TierStory,
) -> None:
    story.partner("p-1")
    story.partner("p-2")
    story.deal("p-1", "c-1", "3000", "2024-06-01")
    story.credit("p-2", "c-2", "333.33", "2025-03-01", currency="GBP")
    first = await story.rollup("2025-03")
    again = await story.rollup("2025-03")
    assert (again.revision, again.digest, again.created) == (first.revision, first.digest, False)
    assert len(first.digest) == 64


async def test_t3_late_data_stores_a_new_revision_with_a_diff_and_keeps_the_old_one(
    story: TierStory,
) -> None:
    story.partner("p-1")
    story.partner("p-2")
    story.deal("p-1", "c-1", "1300", "2024-06-01")  # 65 sold
    story.credit("p-2", "c-2", "1000", "2025-03-01")
    first = await story.rollup("2025-03")
    assert await story.outbox() == ["rollup.completed"]  # nobody moved from untiered
    story.credit("p-1", "c-3", "6000", "2025-03-14", recorded="2025-03-20")  # late: 60 managed
    second = await story.rollup("2025-03")
    assert (second.revision, second.tier_changes) == (2, 1)
    assert second.digest != first.digest
    assert (await story.document("p-1", "2025-03", revision=1))["tier"] == "partner"
    assert (await story.document("p-1", "2025-03", revision=2))["tier"] == "gold"
    assert await story.outbox() == ["rollup.completed", "tier.changed", "rollup.completed"]
    async with story.runtime.sessions() as session:
        read = await read_rollup(session, Month.parse("2025-03"), None)
    assert read.revisions == [1, 2]
    assert read.changes["partners"]["p-1"]["tier"] == ["partner", "gold"]
    assert read.changes["partners"]["p-1"]["managed_points"] == ["0", "60"]
    assert "p-2" not in read.changes["partners"]


async def test_t4_projection_counts_known_expiries_of_the_next_three_months(
    story: TierStory,
) -> None:
    story.partner("p-1")
    story.deal("p-1", "c-1", "1000", "2024-04-10")  # 50 sold, out of the window by 2025-04-15
    story.deal("p-1", "c-2", "1000", "2024-06-10")  # out by 2025-06-15
    story.credit("p-1", "c-3", "1000", "2025-03-01")
    story.credit("p-1", "c-3", "0", "2025-05-01", recorded="2025-03-01")  # a known expiry (M2)
    await story.rollup("2025-03")
    projection = (await story.document("p-1", "2025-03"))["projection"]
    totals = [(step["month"], Decimal(step["total_points"])) for step in projection]
    assert totals == [("2025-04", Decimal(60)), ("2025-05", Decimal(50)), ("2025-06", Decimal(0))]
