from typing import Annotated

from fastapi import Depends, Request

from credit_ledger import service
from credit_ledger.domain.policy import ManagedPolicy
from credit_ledger.schemas import AccessActionRead
from keel.http.dependencies import ClockDep, SessionDep


async def get_policy(request: Request) -> ManagedPolicy:
    policy: ManagedPolicy = request.app.state.policy
    return policy


PolicyDep = Annotated[ManagedPolicy, Depends(get_policy)]


class AccessActions:
    """The client access manager's actions on the path's partner and client, at the request's
    time (M4, M5)."""

    def __init__(
        self,
        partner_id: str,
        client_id: str,
        session: SessionDep,
        clock: ClockDep,
        policy: PolicyDep,
    ) -> None:
        self.partner_id, self.client_id = partner_id, client_id
        self.session, self.clock, self.policy = session, clock, policy

    async def take(self, action: str, user_id: str | None = None) -> AccessActionRead:
        return await service.act_on_access(
            self.session,
            partner_id=self.partner_id,
            client_id=self.client_id,
            user_id=user_id,
            action=action,
            now=self.clock.now(),
            policy=self.policy,
        )


AccessDep = Annotated[AccessActions, Depends(AccessActions)]
