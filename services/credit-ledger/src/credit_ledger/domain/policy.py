"""Managed-credit policies (M2 window, M3 qualifying actions, minor units for M7): effective-dated
data, validated at load, chosen by the day they apply to."""

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import ClassVar

from pydantic import Field

from keel.policy import Policies, Versioned, in_force

POLICY_DIR = Path(__file__).parent.parent / "policies"
DEFAULT_MINOR_UNITS = 2


class WindowVersion(Versioned):
    days: int = Field(gt=0)


class QualifyingActionsVersion(Versioned):
    tools: dict[str, frozenset[str]]

    def qualifies(self, tool: str, action: str) -> bool:
        """M3: only listed actions of the tool count; anything unknown does not."""
        return action in self.tools.get(tool, frozenset())


class ManagedPolicy(Policies):
    directory: ClassVar[Path] = POLICY_DIR

    window: tuple[WindowVersion, ...]
    qualifying_actions: tuple[QualifyingActionsVersion, ...]
    currency_minor_units: dict[str, int] = Field(default_factory=dict)

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
