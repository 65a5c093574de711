"""Managed-credit policies (M2 window, M3 qualifying actions, minor units for M7): effective-dated
data, validated at load, chosen by the day they apply to."""

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from keel.policy import (
    Versioned,
    check_ordered,
    first_evaluable_day,
    in_force,
    read_policy_files,
)

POLICY_DIR = Path(__file__).parent.parent / "policies"
DEFAULT_MINOR_UNITS = 2


class WindowVersion(Versioned):
    days: int = Field(gt=0)


class QualifyingActionsVersion(Versioned):
    tools: dict[str, frozenset[str]]

    def qualifies(self, tool: str, action: str) -> bool:
        """M3: only listed actions of the tool count; anything unknown does not."""
        return action in self.tools.get(tool, frozenset())


class ManagedPolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    window: tuple[WindowVersion, ...]
    qualifying_actions: tuple[QualifyingActionsVersion, ...]
    currency_minor_units: dict[str, int] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        check_ordered("window", self.window)
        check_ordered("qualifying_actions", self.qualifying_actions)
        return self

    @property
    def first_day(self) -> date:
        """The first day every part of the policy is in force: no day before it credits
        anything, and a fact dated before it is kept but counts for nothing (issue 12.3)."""
        return first_evaluable_day(self.window, self.qualifying_actions)

    def window_on(self, day: date) -> WindowVersion:
        """M2: the window in force on the day being evaluated."""
        return in_force(self.window, day)

    def actions_on(self, day: date) -> QualifyingActionsVersion:
        return in_force(self.qualifying_actions, day)

    def window_lengths(self) -> frozenset[int]:
        return frozenset(v.days for v in self.window)

    def window_changes(self) -> tuple[date, ...]:
        return tuple(v.effective_from for v in self.window)

    def smallest_unit(self, currency: str) -> Decimal:
        return Decimal(1).scaleb(-self.currency_minor_units.get(currency, DEFAULT_MINOR_UNITS))

    @classmethod
    def load(cls, directory: Path | None = None) -> Self:
        return cls.model_validate(read_policy_files(directory or POLICY_DIR))
