"""The C-rules that need no database: normalisation, the policy, the capacity figure."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from capacity_support import lead
from pydantic import ValidationError

from capacity.domain.capacity import Capacity
from capacity.domain.policy import POLICY_DIR, CapacityPolicy
from capacity.schemas import RegistrationCreate
from keel.events.payloads.account import PartnerType
from keel.events.payloads.tier import Tier

POLICY = CapacityPolicy.load()
TODAY = POLICY.on(date(2026, 3, 2))


@pytest.mark.parametrize(
    ("website", "domain"),
    [
        ("https://WWW.Example.co.uk/pricing", "example.co.uk"),
        ("example.com:443", "example.com"),
        ("bücher.de", "xn--bcher-kva.de"),
        ("http://shop.example.com/a?b=c", "example.com"),
        ("  Example.COM.  ", "example.com"),
    ],
)
def test_c1_a_website_as_typed_registers_its_registrable_domain(website: str, domain: str) -> None:
    assert RegistrationCreate.model_validate(lead(website)).domain == domain


@pytest.mark.parametrize("website", ["localhost", "192.168.0.1", "co.uk", "", "http://"])
def test_c1_garbage_is_refused_naming_the_website(website: str) -> None:
    with pytest.raises(ValidationError) as refused:
        RegistrationCreate.model_validate(lead(website))
    assert [error["loc"] for error in refused.value.errors()] == [("website",)]


@pytest.mark.parametrize(
    ("tier", "partner_type", "limit"),
    [
        (None, PartnerType.SOLUTIONS, 50),
        (Tier.PARTNER, PartnerType.SOLUTIONS, 50),
        (Tier.SILVER, PartnerType.SOLUTIONS, 500),
        (Tier.GOLD, PartnerType.SOLUTIONS, 500),
        (Tier.PLATINUM, PartnerType.SOLUTIONS, 500),
        (Tier.DIAMOND, PartnerType.SOLUTIONS, 1000),
        (Tier.ELITE, PartnerType.SOLUTIONS, 1000),
        (Tier.DIAMOND, PartnerType.REFERRAL, 25),
        (None, PartnerType.REFERRAL, 25),
        (None, PartnerType.PROVIDER, 50),
    ],
)
def test_c2_the_limit_follows_tier_and_partner_type(
    tier: Tier | None, partner_type: PartnerType, limit: int
) -> None:
    assert TODAY.limit(tier, partner_type) == limit


def test_c2_the_policy_says_how_provider_partners_are_treated() -> None:
    assert "Provider partners have no tier" in TODAY.note


def _policy(**changes: Any) -> dict[str, Any]:
    version: dict[str, Any] = {
        "version": "v1",
        "effective_from": "2024-01-01",
        "tier_limits": {tier.value: 10 for tier in Tier},
        **changes,
    }
    return {"version": [version]}


@pytest.mark.parametrize(
    "changes",
    [
        {"tier_limits": {"partner": 50}},
        {"partner_type_limits": {"referral": 0}},
        {"reserved_domains": ["WWW.Vendor-Example.com"]},
        {"reserved_domains": ["co.uk"]},
        {"tier_limits": {"partner": 50, "bronze": 1}},
    ],
)
def test_c2_a_bad_policy_is_refused_at_load(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        CapacityPolicy.model_validate(_policy(**changes))


def test_c2_policy_versions_apply_from_their_day() -> None:
    two = _policy()["version"] + [
        {**_policy()["version"][0], "version": "v2", "effective_from": "2025-01-01"}
    ]
    policy = CapacityPolicy.model_validate({"version": two})
    assert policy.on(date(2024, 12, 31)).version == "v1"
    assert policy.on(date(2025, 1, 1)).version == "v2"
    with pytest.raises(LookupError):
        policy.on(date(2023, 12, 31))
    with pytest.raises(ValidationError):
        CapacityPolicy.model_validate({"version": list(reversed(two))})


def test_c2_the_shipped_policy_file_loads() -> None:
    assert (POLICY_DIR / "capacity.toml").exists()
    assert POLICY.version[0].effective_from <= date(2018, 1, 1)


def test_c3_the_vendor_reserves_its_domains() -> None:
    assert TODAY.reserves("vendor-example.com")
    assert not TODAY.reserves("example.com")


def test_c4_referral_registrations_expire_90_days_after_registration() -> None:
    at = datetime(2026, 3, 2, 10, tzinfo=UTC)
    assert TODAY.expires_at(PartnerType.REFERRAL, at) == at + timedelta(days=90)
    assert TODAY.expires_at(PartnerType.SOLUTIONS, at) is None
    assert TODAY.expires_at(PartnerType.PROVIDER, at) is None


def test_c6_usage_above_a_lowered_limit_is_over_limit_and_admits_nothing() -> None:
    dropped = Capacity(Tier.PARTNER, PartnerType.SOLUTIONS, limit=50, used=60)
    assert (dropped.over_limit, dropped.admits_one_more, dropped.available) == (True, False, 0)
    at_limit = Capacity(Tier.PARTNER, PartnerType.SOLUTIONS, limit=50, used=50)
    assert (at_limit.over_limit, at_limit.admits_one_more) == (False, False)
    under = Capacity(Tier.PARTNER, PartnerType.SOLUTIONS, limit=50, used=49)
    assert (under.over_limit, under.admits_one_more, under.available) == (False, True, 1)
