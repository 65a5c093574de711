"""How the ledger turns attributions into steps: the rule it records, and no entry for a change
that changes nothing."""

from datetime import date

from ledger_story import Story, at

from credit_ledger.domain.facts import UserStatus
from credit_ledger.domain.policy import ManagedPolicy
from credit_ledger.ledger import desired_steps

POLICY = ManagedPolicy.load()


def test_m5_an_ended_credit_gets_no_new_entry_when_the_currency_changes() -> None:
    story = (
        Story()
        .subscription(at("2024-01-01"), "100.00", "USD")
        .managed_by("p-1", "u-1", "a.example", at("2024-01-01"))
        .activity("p-1", "u-1", "email.sent", at("2024-01-02"))
        .end_services("p-1", at("2024-01-10"))
        .subscription(at("2024-02-01"), "90.00", "EUR")
    )
    steps = desired_steps(story.history, POLICY, date(2024, 1, 1))
    assert [(s.day, s.credit.amount, s.rule) for s in steps["p-1"]] == [
        (date(2024, 1, 2), 100, "M1"),
        (date(2024, 1, 10), 0, "M5"),
    ]


def test_m2_the_end_is_put_down_to_what_ended_it_that_day_not_to_an_older_removal() -> None:
    story = (
        Story()
        .subscription(at("2024-01-01"), "100.00")
        .managed_by("p-1", "u-1", "a.example", at("2024-01-01"))
        .user("p-1", "u-2", "u-2@a.example", at("2024-01-01"))
        .member("u-2", at("2024-01-01"))
        .activity("p-1", "u-2", "email.sent", at("2024-01-02"))
        .status("p-1", "u-1", UserStatus.REMOVED, at("2024-01-03"))  # u-1 never counted
    )
    steps = desired_steps(story.history, POLICY, date(2024, 1, 1))
    assert [(s.day, s.rule) for s in steps["p-1"]] == [
        (date(2024, 1, 2), "M1"),
        (date(2024, 3, 2), "M2"),  # u-2's window ran out; u-1's removal is old news
    ]


def test_days_before_the_first_policy_credit_nothing_and_facts_from_then_still_hold() -> None:
    """Issue 12, point 3: a client of 2015 is data; an activity of 2017 was never catalogued (M3),
    so it credits no day, not even within the first window; evaluation starts on 2018-01-01."""
    story = (
        Story()
        .subscription(at("2015-06-01"), "100.00")
        .managed_by("p-1", "u-1", "a.example", at("2015-06-01"))
        .activity("p-1", "u-1", "email.sent", at("2017-12-01"))
        .activity("p-1", "u-1", "email.sent", at("2018-01-10"))
    )
    assert POLICY.first_day == date(2018, 1, 1)
    steps = desired_steps(story.history, POLICY, date(2015, 6, 1))
    assert [(s.day, s.credit.amount, s.rule) for s in steps["p-1"]] == [
        (date(2018, 1, 10), 100, "M1"),
        (date(2018, 4, 10), 0, "M2"),
    ]
