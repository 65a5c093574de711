"""Effective-dated policy versions: data files, validated at load, chosen by the day they apply."""

import tomllib
from bisect import bisect_right
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any, ClassVar, Self, TypeVar, get_args, get_origin

from pydantic import BaseModel, ConfigDict, model_validator

from keel.errors import FieldError, ValidationFailed


class Versioned(BaseModel):
    """One version of a policy: in force from `effective_from` until the next version's day."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str
    effective_from: date
    note: str = ""


V = TypeVar("V", bound=Versioned)


class NotInForce(LookupError):
    """A day before a policy's first version: no rule of it applies then, so nothing is credited
    for that day. Carries the first day that can be evaluated."""

    def __init__(self, day: date, first_day: date) -> None:
        super().__init__(
            f"no policy version in force on {day}; the first is in force from {first_day}"
        )
        self.day = day
        self.first_day = first_day


def in_force(versions: Sequence[V], day: date) -> V:
    """The version in force on the day (versions in increasing `effective_from`)."""
    index = bisect_right(versions, day, key=_effective_from) - 1
    if index < 0:
        raise NotInForce(day, versions[0].effective_from)
    return versions[index]


def _effective_from(version: Versioned) -> date:
    return version.effective_from


def _read_policy_files(directory: Path) -> dict[str, Any]:
    """Every `*.toml` in the directory, merged: a service's packaged policies, or the ConfigMap
    mounted where SERVICE_POLICY_DIR points."""
    data: dict[str, Any] = {}
    for path in sorted(directory.glob("*.toml")):
        data.update(tomllib.loads(path.read_text()))
    return data


def _is_family(annotation: Any) -> bool:
    """`tuple[SomeVersion, ...]`: a family of versions."""
    args = get_args(annotation)
    return (
        get_origin(annotation) is tuple
        and len(args) == 2
        and args[1] is Ellipsis
        and isinstance(args[0], type)
        and issubclass(args[0], Versioned)
    )


def _mentions_versions(annotation: Any) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, Versioned):
        return True
    return any(_mentions_versions(arg) for arg in get_args(annotation))


class Policies(BaseModel):
    """A service's policies as its `*.toml` files state them. Each field annotated
    `tuple[SomeVersion, ...]` is a family of versions, which must exist with increasing days
    (checked at load); other fields are plain settings of the policy."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Where the service's packaged policy files are.
    directory: ClassVar[Path]
    # The fields that are families, found once per class: `first_day` is read per activity
    # judged, and reading the annotations each time was a quarter of a 1,000-client read.
    family_names: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        """Versions held any other way than `tuple[SomeVersion, ...]` would escape the checks
        and `first_day`: refused when the class is defined."""
        super().__pydantic_init_subclass__(**kwargs)
        for name, field in cls.model_fields.items():
            if _mentions_versions(field.annotation) and not _is_family(field.annotation):
                raise TypeError(f"{cls.__name__}.{name}: versions go in tuple[SomeVersion, ...]")
        cls.family_names = tuple(
            name for name, field in cls.model_fields.items() if _is_family(field.annotation)
        )

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        for name, versions in self.families().items():
            days = [v.effective_from for v in versions]
            if not days or days != sorted(set(days)):
                raise ValueError(f"{name}: versions must exist, with increasing effective_from")
        return self

    def families(self) -> dict[str, Sequence[Versioned]]:
        return {name: getattr(self, name) for name in self.family_names}

    @property
    def first_day(self) -> date:
        """The first day on which every family has a version in force: no earlier day can be
        evaluated (issue 12 point 3)."""
        return max(versions[0].effective_from for versions in self.families().values())

    @classmethod
    def load(cls, directory: Path | None = None) -> Self:
        """The policies in `directory` (a mounted ConfigMap), else the packaged ones."""
        return cls.model_validate(_read_policy_files(directory or cls.directory))


def require_evaluable(day: date, first_day: date, field: str) -> date:
    """Issue 12 point 3: a day before the first policy version is bad input to a read or a
    calculation (nothing can be evaluated then), refused naming the field and the first day."""
    if day < first_day:
        reason = (
            f"no policy is in force on {day}; the first day that can be evaluated is {first_day}"
        )
        raise ValidationFailed(
            f"{field}: {reason}",
            errors=[FieldError(field, reason)],
            extensions={"first_evaluable_day": first_day.isoformat()},
        )
    return day
