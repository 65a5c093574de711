"""Events as the rows the S, P and T rules read. A deal or credit in a currency the table in force
does not list, or dated before the first table, can never be applied under the policy as it stands:
it is dead-lettered with that reason, never counted as zero, so a replay applies it once the policy
gains what it lacks."""

from datetime import UTC, date, datetime
from typing import Any, Final

from keel.domains import NotADomain, registrable_domain
from keel.errors import PoisonMessage
from keel.events.payloads.account import (
    ClientAppsUsedV1,
    PartnerCertificationChangedV1,
    PartnerRegisteredV1,
)
from keel.events.payloads.capacity import DomainRegisteredV1, DomainRegistrationEndedV1
from keel.events.payloads.credit import ManagedCreditChangedV1
from keel.events.payloads.deal import DealClosedV1, DealKind, DealType
from keel.events.registry import Event
from keel.policy import NotInForce
from tier_engine.domain.points import sold_rate
from tier_engine.domain.policy import TierPolicy, UnknownCurrency
from tier_engine.tables import CreditEntry, Registration

UNKNOWN_CURRENCY = "unknown_currency"
NO_POLICY_IN_FORCE = "no_policy_in_force"


def utc_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def check_currency(policy: TierPolicy, currency: str, day: date) -> None:
    """P1: the currency must be in the table in force on the day its points are first needed,
    and a table must be in force that day (issue 12.3: days before the first are no error)."""
    try:
        policy.units_on(day).unit(currency)
    except UnknownCurrency as error:
        raise PoisonMessage(UNKNOWN_CURRENCY, str(error)) from None
    except NotInForce as error:
        raise PoisonMessage(NO_POLICY_IN_FORCE, str(error)) from None


def deal_domain(deal: DealClosedV1) -> str:
    """C1/S3: the client's registrable domain, as capacity registers it."""
    try:
        return registrable_domain(deal.client_domain)
    except NotADomain as error:
        raise PoisonMessage("invalid_domain", f"client_domain {error}") from None


def check_deal(policy: TierPolicy, event: Event[DealClosedV1]) -> None:
    check_currency(policy, event.payload.currency, utc_day(event.time))
    deal_domain(event.payload)


def _identity(event: Event[Any]) -> dict[str, Any]:
    return {"source": event.envelope.source, "event_id": event.envelope.id}


def deal_row(
    policy: TierPolicy,
    event: Event[DealClosedV1],
    *,
    line_first_sold_on: date,
    recorded_at: datetime,
) -> dict[str, Any]:
    """A deal with the units and rate in force at close (P1-P3) and whether S3 applies."""
    deal = event.payload
    closed_on = utc_day(event.time)
    units = policy.units_on(closed_on)
    rate = sold_rate(
        policy,
        deal_type=deal.deal_type,
        kind=deal.kind,
        closed_on=closed_on,
        line_first_sold_on=line_first_sold_on,
        country=deal.client_country,
    )
    return {
        **_identity(event),
        "deal_id": deal.deal_id,
        "partner_id": deal.partner_id,
        "client_id": deal.client_id,
        "client_domain": deal_domain(deal),
        "client_country": deal.client_country,
        "currency": deal.currency,
        "deal_type": deal.deal_type.value,
        "product_line": deal.product_line,
        "kind": deal.kind.value,
        "mrr_delta": deal.mrr_delta,
        "closed_at": event.time,
        "closed_on": closed_on,
        "unit": units.unit(deal.currency),
        "units_version": units.version,
        "rate": rate.per_unit,
        "rate_rule": rate.rule,
        "rates_version": rate.rates_version,
        "growth_version": rate.growth_version,
        "line_first_sold_on": line_first_sold_on,
        "registration_required": policy.registration_on(closed_on).required,
        "recorded_at": recorded_at,
    }


def rerated(policy: TierPolicy, row: dict[str, Any], line_first_sold_on: date) -> dict[str, Any]:
    """The same deal once an earlier sale of its product line is known (P2 upsell rule)."""
    rate = sold_rate(
        policy,
        deal_type=DealType(row["deal_type"]),
        kind=DealKind(row["kind"]),
        closed_on=row["closed_on"],
        line_first_sold_on=line_first_sold_on,
        country=row["client_country"],
    )
    return {
        **row,
        "line_first_sold_on": line_first_sold_on,
        "rate": rate.per_unit,
        "rate_rule": rate.rule,
    }


# The payload fields each table keeps: a field added to a payload within its version (an
# additive change) is not a column, and must not break the insert.
CREDIT_COLUMNS: Final = set(CreditEntry.model_fields)
REGISTRATION_COLUMNS: Final = set(Registration.model_fields)


def credit_row(event: Event[ManagedCreditChangedV1]) -> dict[str, Any]:
    """The credit as the ledger published it."""
    return _identity(event) | event.payload.model_dump(include=CREDIT_COLUMNS)


def registration_row(event: Event[DomainRegisteredV1]) -> dict[str, Any]:
    registered = event.payload
    held = registered.model_dump(
        include={"registration_id", "partner_id", "domain", "registered_at"}
    )
    return held | {
        "ended_at": registered.expires_at,
        "ended_by": "expired" if registered.expires_at else None,
    }


def ending_row(event: Event[DomainRegistrationEndedV1]) -> dict[str, Any]:
    """The registration as it ended, and how (C4 or C5)."""
    ended = event.payload.model_dump(include=REGISTRATION_COLUMNS)
    return ended | {"ended_by": event.envelope.type.removeprefix("domain.")}


def apps_row(event: Event[ClientAppsUsedV1]) -> dict[str, Any]:
    return {
        **_identity(event),
        "client_id": event.payload.client_id,
        "at": event.time,
        "apps": sorted(set(event.payload.apps)),
    }


def partner_fact_row(
    event: Event[PartnerRegisteredV1] | Event[PartnerCertificationChangedV1],
) -> dict[str, Any]:
    payload = event.payload
    return {
        **_identity(event),
        "partner_id": payload.partner_id,
        "kind": event.envelope.type,
        "at": event.time,
        "partner_type": getattr(payload, "partner_type", None),
        "certified": getattr(payload, "certified", None),
    }
