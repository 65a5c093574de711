"""The pages' pure parts: chart geometry and which rollup is in force on a day (T3)."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from partner_portal.web import charts
from partner_portal.web.figures import month_in_force


def test_track_bars_share_one_scale_so_next_tier_lines_compare_across_tracks() -> None:
    bars = charts.track_bars(
        [("total", Decimal(100), Decimal(200), "gold"), ("sold", Decimal(50), None, None)]
    )
    assert bars[0].threshold_x == charts.WIDTH / Decimal("1.1")  # the largest figure, 10% spare
    assert abs(bars[1].width * 2 - bars[0].width) < Decimal(
        "1e-20"
    )  # half the figure, half the bar
    assert bars[1].threshold_x is None


@given(
    st.lists(
        st.tuples(
            st.decimals(min_value=0, max_value=10**6, places=2),
            st.one_of(st.none(), st.decimals(min_value=0, max_value=10**6, places=2)),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_every_bar_and_line_stays_inside_the_chart(
    tracks: list[tuple[Decimal, Decimal | None]],
) -> None:
    bars = charts.track_bars([(f"t{i}", v, t, "next") for i, (v, t) in enumerate(tracks)])
    for bar in bars:
        assert 0 <= bar.width <= charts.WIDTH
        assert bar.threshold_x is None or 0 <= bar.threshold_x <= charts.WIDTH


def test_progress_keeps_the_projected_months_marked_and_in_order() -> None:
    months = [("2025-01", Decimal(10), False), ("2025-02", Decimal(20), False)]
    months += [("2025-03", Decimal(15), True)]
    points = charts.progress_points(months)
    assert [p.projected for p in points] == [False, False, True]
    assert [p.x for p in points] == sorted(p.x for p in points)
    assert points[1].y < points[0].y  # more points draw higher
    assert charts.polyline(points[:1]) == "0.0,109.1"


@pytest.mark.parametrize(
    ("day", "month"),
    [
        (date(2025, 4, 14), "2025-03"),
        (date(2025, 4, 15), "2025-04"),
        (date(2025, 1, 1), "2024-12"),
        (date(2025, 12, 31), "2025-12"),
    ],
)
def test_t3_the_tier_in_force_is_the_latest_month_evaluated_by_the_day(
    day: date, month: str
) -> None:
    assert month_in_force(day) == month
