"""Bearer tokens are verified once and remembered until they expire."""

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from keel.auth import Scope, TokenVerifier, issue_token
from keel.errors import Unauthorized
from keel.settings import AuthSettings

SETTINGS = AuthSettings(jwt_secret=SecretStr("auth-test-secret-" + "x" * 32))
ISSUED = datetime.now(UTC)


def token(ttl: timedelta = timedelta(hours=1)) -> str:
    return issue_token(SETTINGS, subject="s", scopes=[Scope.ADMIN], now=ISSUED, ttl=ttl)


def test_a_verified_token_is_remembered_not_checked_again() -> None:
    verifier = TokenVerifier(SETTINGS)
    the_token = token()
    assert verifier.verify(the_token) is verifier.verify(the_token)


def test_a_remembered_token_is_refused_from_its_expiry_on() -> None:
    now = [ISSUED.timestamp()]
    verifier = TokenVerifier(SETTINGS, wall_clock=lambda: now[0])
    the_token = token(timedelta(minutes=5))
    verifier.verify(the_token)
    now[0] += 5 * 60
    with pytest.raises(Unauthorized, match="expired"):
        verifier.verify(the_token)


def test_a_forged_token_is_refused_every_time() -> None:
    verifier = TokenVerifier(SETTINGS)
    forged = token()[:-4] + "AAAA"
    for _ in range(2):
        with pytest.raises(Unauthorized):
            verifier.verify(forged)


def test_the_memory_is_bounded() -> None:
    verifier = TokenVerifier(SETTINGS, capacity=2)
    tokens = [token(timedelta(hours=1, seconds=n)) for n in range(3)]
    first = verifier.verify(tokens[0])
    verifier.verify(tokens[1])
    verifier.verify(tokens[2])  # full: forgets what it held
    assert verifier.verify(tokens[0]) is not first
