from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from keel.clock import FixedClock, today
from keel.money import display


def test_p4_display_rounds_half_up_to_cents() -> None:
    assert display(Decimal("2.345")) == Decimal("2.35")
    assert display(Decimal("-2.345")) == Decimal("-2.35")
    assert display(Decimal("3.3333333")) == Decimal("3.33")


def test_fixed_clock_moves_only_when_told() -> None:
    clock = FixedClock(datetime(2025, 12, 31, 23, 30, tzinfo=UTC))
    assert today(clock) == date(2025, 12, 31)
    clock.advance(timedelta(hours=1))
    assert today(clock) == date(2026, 1, 1)


def test_fixed_clock_refuses_naive_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        FixedClock(datetime(2025, 1, 1))  # noqa: DTZ001
