"""Who looks at which partner's pages, as of which day (M8 time travel, kept in the URL)."""

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Query, Request
from pydantic import RootModel

from keel.auth import Principal
from keel.clock import today
from keel.http.dependencies import ClockDep, SessionDep
from partner_portal.owners import Portal
from partner_portal.upstream import Caller, Upstream, path
from partner_portal.web.session import may_view, signed_in


@dataclass(frozen=True, slots=True)
class Viewer:
    principal: Principal
    partner_id: str
    portal: Portal
    as_of: date
    today: date
    # The `as_of` of the URL, None when the page shows today: links keep it.
    travelled: date | None

    def page(self, *segments: str) -> str:
        """This partner's page path (ids percent-encoded), as in the site's own links."""
        return "/".join(
            ["/partners", *(quote(part, safe="") for part in (self.partner_id, *segments))]
        )

    def owned(self, *segments: str) -> str:
        """The owners' path of this partner's resource, each id percent-encoded."""
        return path("partners", self.partner_id, *segments)

    async def ask(self, upstream: Upstream, where: str, **params: str | int | None) -> Any:
        """An owner's figures as they come, for a page to show (it reads them, never computes
        on them); absent parameters are left out."""
        wanted = {name: value for name, value in params.items() if value is not None}
        return (await self.portal.ask(upstream, where, OwnersAnswer, wanted)).root

    async def act(self, upstream: Upstream, where: str, body: object = None) -> Any:
        """An action taken at its owner with the partner's own token."""
        return await self.portal.upstreams.post(upstream, where, self.portal.caller, body)


class OwnersAnswer(RootModel[Any]):
    """Whatever JSON the owner answered."""


async def get_viewer(
    request: Request,
    partner_id: str,
    session: SessionDep,
    clock: ClockDep,
    as_of: Annotated[date | None, Query(description="See the pages as of a past day")] = None,
) -> Viewer:
    principal, token = signed_in(request)
    may_view(principal, partner_id, request.url.path)
    state = request.app.state
    portal = Portal(session, state.upstreams, state.policy, state.portal_settings, Caller(token))
    now = today(clock)
    return Viewer(principal, partner_id, portal, as_of or now, now, as_of)


ViewerDep = Annotated[Viewer, Depends(get_viewer)]
