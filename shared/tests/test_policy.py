"""keel.policy: a service's policies are families of effective-dated versions, checked at load,
chosen by day; a day before every family has a version is refused as bad input (issue 12.3)."""

from datetime import date
from pathlib import Path
from typing import ClassVar

import pytest
from pydantic import Field, ValidationError

from keel.errors import ValidationFailed
from keel.policy import NotInForce, Policies, Versioned, in_force, require_evaluable


class Window(Versioned):
    days: int


class Limit(Versioned):
    most: int


class Sample(Policies):
    directory: ClassVar[Path] = Path("/nonexistent")

    window: tuple[Window, ...]
    limit: tuple[Limit, ...]
    minor_units: dict[str, int] = Field(default_factory=dict)


def window(day: str, days: int) -> dict[str, object]:
    return {"version": day, "effective_from": day, "days": days}


def limit(day: str, most: int) -> dict[str, object]:
    return {"version": day, "effective_from": day, "most": most}


SAMPLE = Sample.model_validate(
    {
        "window": [window("2018-01-01", 90), window("2023-01-01", 60)],
        "limit": [limit("2019-06-01", 25)],
        "minor_units": {"JPY": 0},
    }
)


def test_the_families_are_the_fields_of_versions_and_not_the_plain_settings() -> None:
    assert list(SAMPLE.families()) == ["window", "limit"]


def test_the_first_day_is_when_every_family_has_a_version_in_force() -> None:
    assert SAMPLE.first_day == date(2019, 6, 1)


def test_the_version_in_force_is_the_latest_begun_by_the_day() -> None:
    assert in_force(SAMPLE.window, date(2022, 12, 31)).days == 90
    assert in_force(SAMPLE.window, date(2023, 1, 1)).days == 60
    with pytest.raises(NotInForce) as refused:
        in_force(SAMPLE.window, date(2017, 12, 31))
    assert refused.value.first_day == date(2018, 1, 1)


@pytest.mark.parametrize(
    "windows",
    [
        pytest.param([], id="no-version"),
        pytest.param([window("2023-01-01", 60), window("2018-01-01", 90)], id="decreasing"),
        pytest.param([window("2018-01-01", 60), window("2018-01-01", 90)], id="same-day"),
    ],
)
def test_a_family_must_have_versions_on_increasing_days(windows: list[dict[str, object]]) -> None:
    with pytest.raises(ValidationError, match="window: versions must exist"):
        Sample.model_validate({"window": windows, "limit": [limit("2019-06-01", 25)]})


def test_load_merges_every_toml_of_the_directory(tmp_path: Path) -> None:
    (tmp_path / "window.toml").write_text(
        '[[window]]\nversion = "w1"\neffective_from = 2018-01-01\ndays = 90\n'
    )
    (tmp_path / "limit.toml").write_text(
        '[[limit]]\nversion = "l1"\neffective_from = 2018-03-01\nmost = 5\n'
    )
    loaded = Sample.load(tmp_path)
    assert (loaded.window[0].days, loaded.limit[0].most, loaded.first_day) == (
        90,
        5,
        date(2018, 3, 1),
    )


def test_a_day_before_the_first_is_a_422_naming_the_field_and_the_first_day() -> None:
    assert require_evaluable(date(2019, 6, 1), SAMPLE.first_day, "as_of") == date(2019, 6, 1)
    with pytest.raises(ValidationFailed) as refused:
        require_evaluable(date(2019, 5, 31), SAMPLE.first_day, "as_of")
    assert refused.value.errors[0].field == "as_of"
    assert refused.value.extensions == {"first_evaluable_day": "2019-06-01"}


def test_versions_held_other_than_as_a_family_are_refused_when_the_class_is_defined() -> None:
    with pytest.raises(TypeError, match="window: versions go in tuple"):

        class _Listed(Policies):
            window: list[Window]
