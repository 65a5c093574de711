"""Driver errors mapped to the AppError family at the boundary (STYLE habit 7).

Both roads to PostgreSQL are covered: SQLAlchemy wraps asyncpg's errors (`DBAPIError`, the
original underneath), while the raw asyncpg hot paths raise them as they are. An unreachable or
restarting database is a 503 with `Retry-After` (issue 12 point 7): the request may succeed
later, nothing was accepted. A value the database refuses as data (SQLSTATE class 22, such as a
number out of range) is the caller's input, a 422.
"""

from collections.abc import Iterator

import asyncpg
from sqlalchemy.exc import DBAPIError

from keel.errors import AppError, ServiceUnavailable, ValidationFailed

RETRY_AFTER_S = 5


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error, what it wraps (`orig`) and what caused it, outermost first."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        wrapped = getattr(current, "orig", None)
        current = wrapped if isinstance(wrapped, BaseException) else current.__cause__


def _is_data_error(error: BaseException) -> bool:
    # The server refuses data with a SQLSTATE of class 22 (asyncpg.DataError); asyncpg refuses an
    # argument client-side with an InterfaceError that is also a ValueError.
    return isinstance(error, asyncpg.DataError) or (
        isinstance(error, asyncpg.InterfaceError) and isinstance(error, ValueError)
    )


def _is_unreachable(error: BaseException) -> bool:
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(
        error,
        OSError
        | asyncpg.PostgresConnectionError
        | asyncpg.OperatorInterventionError  # shutting down, starting up
        | asyncpg.InterfaceError,  # the connection is gone
    )


def app_error_for(error: BaseException) -> AppError | None:
    """The AppError a driver error stands for, or None when it is a fault of ours (a 500)."""
    chain = list(_chain(error))
    if any(_is_data_error(e) for e in chain):
        detail = str(chain[-1]).splitlines()[0]
        return ValidationFailed(f"a value in the request cannot be stored: {detail}")
    if any(_is_unreachable(e) for e in chain):
        return ServiceUnavailable(
            "the database cannot be reached at the moment; nothing was changed, try again",
            retry_after_s=RETRY_AFTER_S,
        )
    return None
