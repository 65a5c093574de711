"""The M-rules as pure functions: each test names the rule it checks."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from ledger_story import Story, at

from credit_ledger.domain.attribution import attribute, expires_on
from credit_ledger.domain.facts import UserStatus
from credit_ledger.domain.policy import ManagedPolicy
from credit_ledger.domain.split import split_equally

POLICY = ManagedPolicy.load()


def credits(story: Story, day: str | date) -> dict[str, Decimal]:
    when = date.fromisoformat(day) if isinstance(day, str) else day
    return attribute(story.history, when, POLICY).credits()


def one_partner(first_day: str = "2024-01-01") -> Story:
    return (
        Story()
        .subscription(at(first_day), "1000.00")
        .managed_by("p-1", "u-1", "agency.example", at(first_day))
    )


def test_m1_an_assigned_member_with_a_qualifying_activity_manages_the_client() -> None:
    story = one_partner().activity("p-1", "u-1", "blog.post_published", at("2024-01-02"))
    assert credits(story, "2024-01-01") == {}
    assert credits(story, "2024-01-02") == {"p-1": Decimal("1000.00")}


def test_m2_the_60_day_window_counts_the_activity_day_and_59_more() -> None:
    story = one_partner().activity("p-1", "u-1", "landing_page.edited", at("2024-01-01"))
    assert credits(story, "2024-02-29") == {"p-1": Decimal("1000.00")}  # day 59
    assert credits(story, "2024-03-01") == {}  # day 60: expired
    assert expires_on(date(2024, 1, 1), date(2024, 1, 1), POLICY) == date(2024, 3, 1)


def test_m2_the_90_day_window_applies_until_2023_06_27() -> None:
    story = one_partner("2022-12-01").activity("p-1", "u-1", "email.sent", at("2023-01-01"))
    assert credits(story, "2023-03-31") == {"p-1": Decimal("1000.00")}  # day 89
    assert credits(story, "2023-04-01") == {}  # day 90


def test_m2_the_window_is_the_one_in_force_on_the_day_evaluated() -> None:
    story = one_partner("2023-05-01").activity("p-1", "u-1", "workflow.edited", at("2023-05-10"))
    assert credits(story, "2023-06-27") == {"p-1": Decimal("1000.00")}  # 48 days, 90-day rule
    assert credits(story, "2023-07-08") == {"p-1": Decimal("1000.00")}  # 59 days, 60-day rule
    assert credits(story, "2023-07-09") == {}  # 60 days under the 60-day rule
    assert expires_on(date(2023, 5, 10), date(2023, 6, 27), POLICY) == date(2023, 7, 9)


@pytest.mark.parametrize("action", ["login.succeeded", "blog.post_created", "blog.viewed", "x.y"])
def test_m3_logins_views_drafts_and_unknown_actions_never_count(action: str) -> None:
    story = one_partner().activity("p-1", "u-1", action, at("2024-01-02"))
    assert credits(story, "2024-01-03") == {}


def test_m3_an_action_by_a_deactivated_user_does_not_qualify() -> None:
    story = (
        one_partner()
        .status(
            "p-1",
            "u-1",
            UserStatus.DEACTIVATED,
            at(
                "2024-01-02",
            ),
        )
        .activity("p-1", "u-1", "blog.post_published", at("2024-01-03"))
    )
    assert credits(story, "2024-01-04") == {}


def test_m4_a_contractor_earns_credit_only_after_a_manual_link() -> None:
    story = (
        Story()
        .subscription(at("2024-01-01"), "600.00")
        .partner("p-1", "agency.example", at("2024-01-01"))
        .user("p-1", "u-9", "lee@freelance.example", at("2024-01-01"), employee=False)
        .member("u-9", at("2024-01-01"))
        .activity("p-1", "u-9", "email.sent", at("2024-01-05"))
        .link("p-1", "u-9", at("2024-01-10"))
    )
    # M1: the activity of 01-05 happened before the assignment, so it never counts.
    assert credits(story, "2024-01-12") == {}
    story.activity("p-1", "u-9", "email.sent", at("2024-01-15"))
    assert credits(story, "2024-01-15") == {"p-1": Decimal("600.00")}


def test_m4_an_employee_of_another_domain_is_not_assigned_automatically() -> None:
    story = (
        Story()
        .subscription(at("2024-01-01"), "600.00")
        .partner("p-1", "agency.example", at("2024-01-01"))
        .user("p-1", "u-2", "kim@other.example", at("2024-01-01"))
        .member("u-2", at("2024-01-01"))
        .activity("p-1", "u-2", "email.sent", at("2024-01-05"))
    )
    verdict = attribute(story.history, date(2024, 1, 6), POLICY).not_managing[0]
    assert "not assigned" in verdict.reasons[0]


def test_m5_confirmed_access_removal_ends_credit_on_that_day_until_the_client_readds() -> None:
    story = (
        one_partner()
        .activity("p-1", "u-1", "blog.post_published", at("2024-01-02"))
        .remove_access("p-1", "u-1", at("2024-01-10"))
    )
    assert credits(story, "2024-01-09") == {"p-1": Decimal("1000.00")}
    assert credits(story, "2024-01-10") == {}
    reasons = attribute(story.history, date(2024, 1, 10), POLICY).not_managing[0].reasons
    assert reasons == ("user u-1: client access removed on 2024-01-10 (M5)",)
    story.member("u-1", at("2024-01-20"))  # only the client restores a removed user
    assert credits(story, "2024-01-20") == {"p-1": Decimal("1000.00")}


def test_m5_removal_from_the_partner_account_ends_credit_at_once() -> None:
    story = (
        one_partner()
        .activity("p-1", "u-1", "blog.post_published", at("2024-01-02"))
        .status("p-1", "u-1", UserStatus.REMOVED, at("2024-01-10"))
    )
    assert credits(story, "2024-01-09") == {"p-1": Decimal("1000.00")}
    assert credits(story, "2024-01-10") == {}


def test_m5_removal_from_the_client_account_ends_credit_at_once() -> None:
    story = (
        one_partner()
        .activity("p-1", "u-1", "blog.post_published", at("2024-01-02"))
        .member("u-1", at("2024-01-10"), added=False)
    )
    assert credits(story, "2024-01-10") == {}


def test_m5_ended_services_end_credit_until_the_partner_links_again() -> None:
    story = (
        one_partner()
        .activity("p-1", "u-1", "blog.post_published", at("2024-01-02"))
        .end_services("p-1", at("2024-01-10"))
    )
    assert credits(story, "2024-01-10") == {}
    assert (
        "services ended"
        in attribute(story.history, date(2024, 1, 11), POLICY).not_managing[0].reasons[0]
    )


def test_m6_deactivation_keeps_credit_until_the_window_runs_out() -> None:
    story = (
        one_partner()
        .activity("p-1", "u-1", "blog.post_published", at("2024-01-02"))
        .status("p-1", "u-1", UserStatus.DEACTIVATED, at("2024-01-10"))
    )
    assert credits(story, "2024-02-29") == {"p-1": Decimal("1000.00")}  # day 58 of 60
    assert credits(story, "2024-03-02") == {}


def test_m7_two_partners_each_get_half() -> None:
    story = (
        one_partner()
        .managed_by("p-2", "u-2", "second.example", at("2024-01-01"))
        .activity("p-1", "u-1", "blog.post_published", at("2024-01-02"))
        .activity("p-2", "u-2", "email.sent", at("2024-01-03"))
    )
    assert credits(story, "2024-01-02") == {"p-1": Decimal("1000.00")}
    assert credits(story, "2024-01-03") == {"p-1": Decimal("500.00"), "p-2": Decimal("500.00")}
    shares = attribute(story.history, date(2024, 1, 3), POLICY).shares
    assert {share.denominator for share in shares} == {2}


def test_m7_three_partners_split_to_the_cent_and_sum_exactly() -> None:
    story = Story().subscription(at("2024-01-01"), "100.00")
    for n in (1, 2, 3):
        story.managed_by(f"p-{n}", f"u-{n}", f"a{n}.example", at("2024-01-01"))
        story.activity(f"p-{n}", f"u-{n}", "email.sent", at("2024-01-02"))
    split = credits(story, "2024-01-02")
    assert split == {"p-1": Decimal("33.34"), "p-2": Decimal("33.33"), "p-3": Decimal("33.33")}
    assert sum(split.values()) == Decimal("100.00")


def test_m7_the_split_is_per_partner_not_per_user() -> None:
    story = (
        one_partner()
        .user("p-1", "u-3", "u-3@agency.example", at("2024-01-01"))
        .member("u-3", at("2024-01-01"))
        .activity("p-1", "u-1", "blog.post_published", at("2024-01-02"))
        .activity("p-1", "u-3", "email.sent", at("2024-01-02"))
    )
    assert credits(story, "2024-01-02") == {"p-1": Decimal("1000.00")}


def test_m7_yen_split_in_whole_yen() -> None:
    assert split_equally(Decimal("1000"), ["a", "b", "c"], POLICY.smallest_unit("JPY")) == {
        "a": Decimal("334"),
        "b": Decimal("333"),
        "c": Decimal("333"),
    }


def test_m8_the_attribution_explains_users_activities_window_and_expiry() -> None:
    story = one_partner().activity(
        "p-1", "u-1", "blog.post_published", at("2024-01-02"), event_id="act-42"
    )
    attribution = attribute(story.history, date(2024, 1, 20), POLICY)
    [share] = attribution.shares
    assert share.verdict.qualifying_users == ("u-1",)
    [counting] = share.verdict.counting
    assert (counting.event_id, counting.action) == ("act-42", "blog.post_published")
    assert counting.expires_on == date(2024, 1, 2) + timedelta(days=60)
    assert (attribution.window.version, attribution.window.days) == ("window-2023", 60)
    assert share.verdict.ends_on == date(2024, 3, 2)
