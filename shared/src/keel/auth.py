"""JWT bearer tokens with scopes and a partner-id claim.

`partner:read` / `partner:write` tokens are bound to one partner (the `partner_id` claim) and can
never reach another partner's resources; `admin` reaches all; `events:write` is for upstream
producers only.
"""

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import jwt

from keel.errors import Unauthorized
from keel.settings import AuthSettings


class Scope(StrEnum):
    EVENTS_WRITE = "events:write"
    PARTNER_READ = "partner:read"
    PARTNER_WRITE = "partner:write"
    ADMIN = "admin"


PARTNER_SCOPES = frozenset({Scope.PARTNER_READ, Scope.PARTNER_WRITE})


@dataclass(frozen=True, slots=True)
class Principal:
    subject: str
    scopes: frozenset[Scope]
    partner_id: str | None = None

    @property
    def is_admin(self) -> bool:
        return Scope.ADMIN in self.scopes

    def can_read_partner(self, partner_id: str) -> bool:
        return self.is_admin or (
            self.partner_id == partner_id and bool(self.scopes & PARTNER_SCOPES)
        )

    def can_write_partner(self, partner_id: str) -> bool:
        return self.is_admin or (
            self.partner_id == partner_id and Scope.PARTNER_WRITE in self.scopes
        )


def issue_token(
    settings: AuthSettings,
    *,
    subject: str,
    scopes: Iterable[Scope],
    now: datetime,
    ttl: timedelta,
    partner_id: str | None = None,
) -> str:
    scope_set = frozenset(scopes)
    if scope_set & PARTNER_SCOPES and not partner_id:
        raise ValueError("partner scopes need a partner_id")
    claims: dict[str, object] = {
        "sub": subject,
        "scope": " ".join(sorted(scope_set)),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
    }
    if partner_id:
        claims["partner_id"] = partner_id
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), settings.jwt_algorithm)


def _claims(settings: AuthSettings, token: str) -> dict[str, Any]:
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret.get_secret_value(),
            algorithms=[settings.jwt_algorithm],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            leeway=settings.leeway_seconds,
            options={"require": ["sub", "exp", "scope"]},
        )
    except jwt.ExpiredSignatureError as error:
        raise Unauthorized("the token has expired") from error
    except jwt.InvalidTokenError as error:
        raise Unauthorized(f"invalid token: {error}") from error
    return claims


def _principal(claims: dict[str, Any]) -> Principal:
    try:
        scopes = frozenset(Scope(name) for name in str(claims["scope"]).split())
    except ValueError as error:
        raise Unauthorized(f"invalid token: {error}") from error
    partner_id = claims.get("partner_id")
    if scopes & PARTNER_SCOPES and not partner_id:
        raise Unauthorized("invalid token: partner scopes without a partner_id claim")
    return Principal(str(claims["sub"]), scopes, str(partner_id) if partner_id else None)


class TokenVerifier:
    """Verifies bearer tokens, each remembered until it expires.

    A producer sends the same token with every request; checking its signature and claims
    once, not per request, takes the JWT off the hot path. Only verified tokens are
    remembered; a remembered one is refused again from its `exp` on (no leeway: stricter than
    the first check). The memory is bounded: when full it is emptied and refills.
    """

    def __init__(
        self,
        settings: AuthSettings,
        *,
        capacity: int = 10_000,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.capacity = capacity
        # The wall clock, as PyJWT judges `exp` by it: a remembered token expires when it would.
        self.wall_clock = wall_clock
        self._verified: dict[str, tuple[Principal, float]] = {}

    def verify(self, token: str) -> Principal:
        remembered = self._verified.get(token)
        if remembered is not None:
            principal, expires = remembered
            if self.wall_clock() < expires:
                return principal
            del self._verified[token]
            raise Unauthorized("the token has expired")
        claims = _claims(self.settings, token)
        principal = _principal(claims)
        if len(self._verified) >= self.capacity:
            self._verified.clear()
        self._verified[token] = (principal, float(claims["exp"]))
        return principal
