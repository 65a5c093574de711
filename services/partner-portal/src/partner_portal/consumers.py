"""Events the portal applies: client profiles, renewals, engagement and the team from the
account topic; the relationship index from the ledger's credit and the deals. Each handler runs
in the batch transaction, once per event id; the latest fact by event time wins."""

from datetime import UTC
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from keel.events import catalogue, topics
from keel.events.payloads.account import (
    ClientAppsUsedV1,
    ClientEngagementScoredV1,
    ClientRenewalDecidedV1,
    ClientRenewalScheduledV1,
    ClientSubscriptionChangedV1,
    ClientV1,
    PartnerTeamAssignedV1,
    PartnerTeamUnassignedV1,
)
from keel.events.payloads.credit import ManagedCreditChangedV1
from keel.events.payloads.deal import LOSSES, DealClosedV1
from keel.events.registry import Event
from keel.kafka.consumer import Subscription
from partner_portal import repository as repo


async def client_changed(session: AsyncSession, event: Event[Any]) -> None:
    payload: ClientV1 = event.payload
    await repo.keep_latest(session, repo.CLIENT, payload.model_dump() | {"at": event.time})


async def subscription_changed(session: AsyncSession, event: Event[Any]) -> None:
    payload: ClientSubscriptionChangedV1 = event.payload
    await repo.keep_latest(session, repo.SUBSCRIPTION, payload.model_dump() | {"at": event.time})


async def apps_used(session: AsyncSession, event: Event[Any]) -> None:
    payload: ClientAppsUsedV1 = event.payload
    row = {"client_id": payload.client_id, "apps": sorted(set(payload.apps)), "at": event.time}
    await repo.keep_latest(session, repo.APPS, row)


async def engagement_scored(session: AsyncSession, event: Event[Any]) -> None:
    """D4: an upstream score replaces the derived one."""
    payload: ClientEngagementScoredV1 = event.payload
    await repo.keep_latest(session, repo.ENGAGEMENT, payload.model_dump() | {"at": event.time})


async def renewal_scheduled(session: AsyncSession, event: Event[Any]) -> None:
    """D2: upcoming from now (event time) until decided."""
    payload: ClientRenewalScheduledV1 = event.payload
    row = payload.model_dump(mode="json") | {
        "renewal_date": payload.renewal_date,
        "decision_deadline": payload.decision_deadline,
        "scheduled_at": event.time,
    }
    await repo.keep_latest(session, repo.RENEWAL, row, moment="scheduled_at")


async def renewal_decided(session: AsyncSession, event: Event[Any]) -> None:
    payload: ClientRenewalDecidedV1 = event.payload
    row = payload.model_dump() | {"decided_at": event.time}
    await repo.keep_latest(session, repo.DECISION, row, moment="decided_at")


async def team_assigned(session: AsyncSession, event: Event[Any]) -> None:
    payload: PartnerTeamAssignedV1 = event.payload
    row = payload.model_dump() | {"assigned_at": event.time}
    await repo.keep_latest(session, repo.TEAM, row, moment="assigned_at")


async def team_unassigned(session: AsyncSession, event: Event[Any]) -> None:
    payload: PartnerTeamUnassignedV1 = event.payload
    await repo.unassign_team_member(session, payload.model_dump() | {"unassigned_at": event.time})


async def managed_credit_changed(session: AsyncSession, event: Event[Any]) -> None:
    """D1 (managed): the ledger's entry for the day; a correction recorded later replaces it."""
    payload: ManagedCreditChangedV1 = event.payload
    row = payload.model_dump(include={"partner_id", "client_id", "effective_on", "recorded_at"})
    row["managed"] = payload.amount > 0
    await repo.keep_latest(session, repo.MANAGED, row, moment="recorded_at")


async def deal_closed(session: AsyncSession, event: Event[Any]) -> None:
    """D1 (sold): a gaining deal (S1) keeps the client on the partner's list while it counts."""
    payload: DealClosedV1 = event.payload
    row = payload.model_dump(include={"deal_id", "partner_id", "client_id"}) | {
        "closed_on": event.time.astimezone(UTC).date(),  # S1: the event time is the close
        "gain": payload.kind not in LOSSES,
    }
    await repo.record_deal(session, row)


SUBSCRIPTION = Subscription(
    name="partner-portal",
    topics=[topics.ACCOUNT.name, topics.CREDIT.name, topics.DEAL.name],
    handlers={
        catalogue.CLIENT_CREATED: client_changed,
        catalogue.CLIENT_UPDATED: client_changed,
        catalogue.CLIENT_SUBSCRIPTION_CHANGED: subscription_changed,
        catalogue.CLIENT_APPS_USED: apps_used,
        catalogue.CLIENT_ENGAGEMENT_SCORED: engagement_scored,
        catalogue.CLIENT_RENEWAL_SCHEDULED: renewal_scheduled,
        catalogue.CLIENT_RENEWAL_DECIDED: renewal_decided,
        catalogue.PARTNER_TEAM_ASSIGNED: team_assigned,
        catalogue.PARTNER_TEAM_UNASSIGNED: team_unassigned,
        catalogue.MANAGED_CREDIT_CHANGED: managed_credit_changed,
        catalogue.DEAL_CLOSED: deal_closed,
    },
    registry=catalogue.EVENTS,
)
