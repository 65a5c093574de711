"""The portal's policies (D1 index window, D2 alert horizons, D4 derived engagement):
effective-dated data, validated at load, chosen by the as-of day."""

from datetime import date
from pathlib import Path
from typing import ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from keel.policy import Policies, Versioned, in_force

POLICY_DIR = Path(__file__).parent.parent / "policies"


class AlertsVersion(Versioned):
    renewal_decision_days: int = Field(ge=0, description="D2: decision deadlines this close")
    expiring_credit_days: int = Field(ge=0, description="M6: credit ending this close")
    capacity_warning_percent: int = Field(ge=1, le=100, description="C2: usage this full")


class Bands(BaseModel):
    """D4: the lowest score of each band."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    low: int = Field(ge=0, le=10)
    medium: int = Field(ge=0, le=10)
    high: int = Field(ge=0, le=10)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not self.low == 0 < self.medium < self.high:
            raise ValueError("bands must start at 0 and increase: low < medium < high")
        return self


class EngagementVersion(Versioned):
    derived: bool = Field(description="The scoring is ours, not the program's published one")
    points_per_app: int = Field(ge=0)
    bands: Bands


class IndexVersion(Versioned):
    sold_window_months: int = Field(ge=1, description="S2 as the tier engine applies it")


class PortalPolicy(Policies):
    directory: ClassVar[Path] = POLICY_DIR

    alerts: tuple[AlertsVersion, ...]
    engagement: tuple[EngagementVersion, ...]
    index: tuple[IndexVersion, ...]

    def alerts_on(self, day: date) -> AlertsVersion:
        return in_force(self.alerts, day)

    def engagement_on(self, day: date) -> EngagementVersion:
        return in_force(self.engagement, day)

    def index_on(self, day: date) -> IndexVersion:
        return in_force(self.index, day)
