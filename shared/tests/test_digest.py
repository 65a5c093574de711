"""The state digest's canonical form (issue 12 point 8): what the rows say, never how they came."""

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from random import Random

from hypothesis import given
from hypothesis import strategies as st

from keel.digest import state_digest

rows = st.lists(
    st.tuples(st.text(max_size=5), st.decimals(allow_nan=False, allow_infinity=False, places=2)),
    unique_by=lambda row: row[0],
    max_size=20,
)


@given(rows, st.randoms())
def test_the_digest_does_not_depend_on_the_order_of_the_rows(
    found: list[tuple[str, Decimal]], shuffler: Random
) -> None:
    reordered = list(found)
    shuffler.shuffle(reordered)
    assert state_digest(reordered) == state_digest(found)


def test_one_value_has_one_rendering_whatever_its_precision_or_zone() -> None:
    in_utc = datetime(2025, 3, 1, 10, tzinfo=UTC)
    in_cet = in_utc.astimezone(timezone(timedelta(hours=1)))
    assert state_digest([("p-1", Decimal("1000.00"), in_utc, {"b": 1, "a": Decimal("0E-8")})]) == (
        state_digest([("p-1", Decimal("1E+3"), in_cet, {"a": Decimal(0), "b": 1})])
    )


def test_a_different_figure_is_a_different_digest() -> None:
    day = date(2025, 3, 1)
    assert state_digest([("p-1", Decimal("1000"), day)]) != state_digest(
        [("p-1", Decimal("1000.01"), day)]
    )
    assert state_digest([]).rows == 0
