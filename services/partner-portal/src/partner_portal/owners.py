"""The owners' answers a page section needs, one upstream call each, with the caller's token:
the `Portal` bundle every use case (and every page to come) is handed."""

from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from partner_portal.config import PortalSettings
from partner_portal.domain.policy import PortalPolicy
from partner_portal.schemas import (
    AttributionAnswer,
    BreakdownAnswer,
    CapacityAnswer,
    EmployeesAnswer,
    ExpiringAnswer,
    ManagedCreditAnswer,
    TierAnswer,
)
from partner_portal.upstream import Caller, Upstream, Upstreams, path

A = TypeVar("A", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Portal:
    """What a use case needs: the request's session, the owners, the policy and the caller."""

    session: AsyncSession
    upstreams: Upstreams
    policy: PortalPolicy
    settings: PortalSettings
    caller: Caller

    async def ask(
        self,
        upstream: Upstream,
        path: str,
        answer: type[A],
        params: dict[str, str | int] | None = None,
    ) -> A:
        return await self.upstreams.get(upstream, path, self.caller, answer, params)

    # One call per section, each parsed into the fields the portal uses.
    async def managed_credit(self, partner_id: str, day: date) -> ManagedCreditAnswer:
        return await self.ask(
            Upstream.LEDGER,
            path("partners", partner_id, "managed-credit"),
            ManagedCreditAnswer,
            {"as_of": str(day)},
        )

    async def expiring(self, partner_id: str, day: date, within_days: int) -> ExpiringAnswer:
        return await self.ask(
            Upstream.LEDGER,
            path("partners", partner_id, "expiring"),
            ExpiringAnswer,
            {"as_of": str(day), "within_days": within_days},
        )

    async def attribution(self, partner_id: str, client_id: str, day: date) -> AttributionAnswer:
        return await self.ask(
            Upstream.LEDGER,
            path("partners", partner_id, "clients", client_id, "attribution"),
            AttributionAnswer,
            {"as_of": str(day)},
        )

    async def employees_answer(self, partner_id: str, day: date) -> EmployeesAnswer:
        return await self.ask(
            Upstream.LEDGER,
            path("partners", partner_id, "employees"),
            EmployeesAnswer,
            {"as_of": str(day)},
        )

    async def tier(self, partner_id: str) -> TierAnswer:
        return await self.ask(Upstream.TIER, path("partners", partner_id, "tier"), TierAnswer)

    async def breakdown(self, partner_id: str, month: str) -> BreakdownAnswer:
        return await self.ask(
            Upstream.TIER,
            path("partners", partner_id, "points-breakdown"),
            BreakdownAnswer,
            {"month": month},
        )

    async def capacity(self, partner_id: str) -> CapacityAnswer:
        return await self.ask(
            Upstream.CAPACITY, path("partners", partner_id, "capacity"), CapacityAnswer
        )
