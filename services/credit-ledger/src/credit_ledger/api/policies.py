from fastapi import APIRouter

from credit_ledger.dependencies import PolicyDep
from credit_ledger.schemas import PoliciesRead, QualifyingActionsRead, WindowRead
from keel.http.app import API_PREFIX
from keel.http.dependencies import PrincipalDep

router = APIRouter(prefix=API_PREFIX, tags=["policies"])


@router.get("/policies", response_model=PoliciesRead)
async def read_policies(policy: PolicyDep, _: PrincipalDep) -> PoliciesRead:
    """The effective-dated policies the M-rules use: windows (M2), qualifying actions (M3)."""
    return PoliciesRead(
        windows=[WindowRead(**w.model_dump()) for w in policy.window],
        qualifying_actions=[
            QualifyingActionsRead(
                version=v.version,
                effective_from=v.effective_from,
                note=v.note,
                tools={tool: sorted(actions) for tool, actions in sorted(v.tools.items())},
            )
            for v in policy.qualifying_actions
        ],
        currency_minor_units=policy.currency_minor_units,
    )
