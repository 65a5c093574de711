"""The D-rules as pure functions: no database, no clock, no network."""

from datetime import date, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from partner_portal.domain.alerts import capacity_warning
from partner_portal.domain.clients import (
    Band,
    ClientRow,
    Order,
    Relationship,
    Sort,
    engagement,
    relationship,
    select_rows,
    sold_after,
)
from partner_portal.domain.point_changes import ClientPoints, point_changes
from partner_portal.domain.policy import PortalPolicy
from partner_portal.domain.renewals import RenewalFacts, current_renewal, decision_due, next_renewal
from partner_portal.domain.why_credited import FIXES, Step, UserSteps, why_credited

POLICY = PortalPolicy.load()
DAY = date(2025, 4, 1)
SCORING = POLICY.engagement_on(DAY)


def test_d1_managed_sold_both_or_not_the_partners_client() -> None:
    assert relationship(True, False) is Relationship.MANAGED
    assert relationship(False, True) is Relationship.SOLD
    assert relationship(True, True) is Relationship.BOTH
    assert relationship(False, False) is None


def test_d1_a_deal_keeps_its_client_sold_for_the_twelve_month_window_of_s2() -> None:
    after = sold_after(DAY, POLICY.index_on(DAY))
    assert after == date(2024, 4, 1)  # closed 2024-04-02 still counts on 2025-04-01; 04-01 not


@given(st.integers(min_value=0, max_value=10))
def test_d4_bands_are_low_0_3_medium_4_6_high_7_10(score: int) -> None:
    expected = Band.LOW if score <= 3 else Band.MEDIUM if score <= 6 else Band.HIGH
    assert engagement(score, 0, SCORING).band is expected


def test_d4_an_upstream_score_wins_over_the_apps() -> None:
    found = engagement(2, 9, SCORING)
    assert (found.score, found.band, found.derived) == (2, Band.LOW, False)


@given(st.integers(min_value=0, max_value=40))
def test_d4_without_a_score_it_is_derived_from_the_apps_and_labelled_derived(apps: int) -> None:
    found = engagement(None, apps, SCORING)
    assert found.score == min(10, apps)
    assert (found.derived, found.policy_version) == (True, SCORING.version)


def renewal(deadline: str, scheduled: str, decided: str | None = None) -> RenewalFacts:
    return RenewalFacts(
        client_id="c-1",
        renewal_date=date.fromisoformat(deadline).replace(day=28),
        decision_deadline=date.fromisoformat(deadline),
        scheduled_at=datetime.fromisoformat(f"{scheduled}T10:00:00+00:00"),
        decided_at=datetime.fromisoformat(f"{decided}T10:00:00+00:00") if decided else None,
        outcome="renewed" if decided else None,
    )


def test_d2_a_renewal_is_due_from_its_announcement_until_its_decision() -> None:
    due = renewal("2025-04-20", scheduled="2025-03-01")
    assert decision_due(due, DAY, 30)
    assert not decision_due(due, date(2025, 2, 28), 60)  # not announced yet
    assert not decision_due(renewal("2025-04-20", "2025-03-01", decided="2025-04-01"), DAY, 30)
    assert decision_due(renewal("2025-04-20", "2025-03-01", decided="2025-04-02"), DAY, 30)


def test_d2_only_deadlines_within_the_days_count_and_an_overdue_undecided_one_still_does() -> None:
    assert not decision_due(renewal("2025-05-02", "2025-03-01"), DAY, 30)
    assert decision_due(renewal("2025-05-01", "2025-03-01"), DAY, 30)
    assert decision_due(renewal("2025-03-20", "2025-03-01"), DAY, 30)


def test_d2_next_is_the_earliest_upcoming_and_current_the_latest_decided() -> None:
    old = renewal("2024-04-20", "2024-03-01", decided="2024-04-10")
    soon = renewal("2025-04-20", "2025-03-01")
    later = renewal("2026-04-20", "2025-03-01")
    assert next_renewal([later, old, soon], DAY) == soon
    assert current_renewal([later, old, soon], DAY) == old


def step(number: int, passed: bool) -> Step:
    return Step(number, f"step {number}", "M4", passed, "evidence")


def test_d3_the_first_failing_step_in_order_and_its_fix_for_each_user() -> None:
    steps = (step(4, False), step(2, False), step(1, True), step(3, True))
    checklist = why_credited(False, None, [UserSteps("u-1", "a@x.example", steps)])
    [user] = checklist.users
    assert [s.number for s in user.steps] == [1, 2, 3, 4]
    assert user.first_failing is not None
    assert user.first_failing.number == 2
    assert user.fix == FIXES[2]


def test_d3_a_credited_partner_keeps_the_day_credit_ends_a_passing_user_has_no_fix() -> None:
    passing = tuple(step(n, True) for n in (1, 2, 3, 4))
    checklist = why_credited(True, date(2025, 5, 19), [UserSteps("u-1", "a@x.example", passing)])
    assert (checklist.credited, checklist.ends_on) == (True, date(2025, 5, 19))
    assert (checklist.users[0].first_failing, checklist.users[0].fix) == (None, None)
    assert why_credited(False, date(2025, 5, 19), []).ends_on is None


points = st.dictionaries(
    st.sampled_from(["c-1", "c-2", "c-3", "c-4"]),
    st.builds(
        ClientPoints,
        st.decimals(min_value=0, max_value=1000, places=2),
        st.decimals(min_value=0, max_value=1000, places=2),
    ),
)


@given(points, points)
def test_d6_new_minus_lost_is_the_change_of_the_totals(
    before: dict[str, ClientPoints], after: dict[str, ClientPoints]
) -> None:
    changes = point_changes(before, after)
    sold = sum(c.change for c in changes.new_sold) + sum(c.change for c in changes.lost_sold)
    managed = sum(c.change for c in changes.new_managed) + sum(
        c.change for c in changes.lost_managed
    )
    assert sold == sum(p.sold for p in after.values()) - sum(p.sold for p in before.values())
    assert managed == sum(p.managed for p in after.values()) - sum(
        p.managed for p in before.values()
    )
    assert all(c.change > 0 for c in changes.new_sold + changes.new_managed)
    assert all(c.change < 0 for c in changes.lost_sold + changes.lost_managed)


def test_d6_a_client_that_appears_is_new_and_one_that_disappears_is_lost() -> None:
    changes = point_changes(
        {"c-1": ClientPoints(Decimal(10), Decimal(0))},
        {"c-2": ClientPoints(Decimal(0), Decimal(5))},
    )
    assert [(c.client_id, c.change) for c in changes.lost_sold] == [("c-1", Decimal(-10))]
    assert [(c.client_id, c.change) for c in changes.new_managed] == [("c-2", Decimal(5))]
    assert changes.new_sold == changes.lost_managed == ()


def row(client_id: str, name: str, mrr: str | None, score: int) -> ClientRow:
    return ClientRow(
        client_id=client_id,
        name=name,
        domain=f"{name.lower()}.com",
        relationship=Relationship.MANAGED,
        products=(),
        apps=(),
        engagement=engagement(score, 0, SCORING),
        mrr=Decimal(mrr) if mrr else None,
        currency="USD",
        next_renewal_on=None,
    )


def test_the_clients_table_puts_rows_without_the_sort_value_last_either_way() -> None:
    rows = [row("c-1", "Zeta", None, 1), row("c-2", "Alpha", "10", 5), row("c-3", "Mu", "20", 9)]
    by = {
        order: [
            r.client_id
            for r in select_rows(rows, query=None, wanted=None, sort=Sort.MRR, order=order)
        ]
        for order in Order
    }
    assert by == {Order.ASC: ["c-2", "c-3", "c-1"], Order.DESC: ["c-3", "c-2", "c-1"]}
    found = select_rows(rows, query="zet", wanted=None, sort=Sort.NAME, order=Order.ASC)
    assert [r.client_id for r in found] == ["c-1"]


def test_the_policy_loads_with_its_derived_label() -> None:
    assert SCORING.derived is True
    assert POLICY.alerts_on(DAY).renewal_decision_days == 30


def test_the_capacity_warning_starts_at_90_percent_of_the_limit_compared_unrounded() -> None:
    alerts = POLICY.alerts_on(DAY)
    assert not capacity_warning(44, 50, alerts)  # 88%
    assert capacity_warning(45, 50, alerts)  # 90%
    assert not capacity_warning(899_999, 1_000_000, alerts)  # 89.9999%, shown as 90.00
    assert capacity_warning(51, 50, alerts)
    assert capacity_warning(0, 0, alerts)
