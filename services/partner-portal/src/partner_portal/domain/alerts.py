"""The dashboard's capacity alert: how full the partner's registrations are. The limit and the
usage are capacity's figures (C2); only the warning threshold is the portal's (policy)."""

from decimal import Decimal

from partner_portal.domain.policy import AlertsVersion


def used_percent(used: int, limit: int) -> Decimal:
    """Unrounded (P4: thresholds compare unrounded values); a zero limit is full."""
    return Decimal(used * 100) / limit if limit else Decimal(100)


def capacity_warning(used: int, limit: int, alerts: AlertsVersion) -> bool:
    """At or over the warning share of the limit (90% by policy)."""
    return used_percent(used, limit) >= alerts.capacity_warning_percent
