"""A digest of derived state you can compare (issue 12 point 8; T3, M8 made checkable).

Each service lists its canonical state as of a day as rows of plain values; the digest is a
sha256 over those rows in a canonical form: every value rendered one way only (a Decimal without
trailing zeros, a datetime in UTC, a mapping with sorted keys), the rows sorted, so neither the
order the rows were made in nor the order the facts arrived in can change it. Two environments
that applied the same events agree on every service's digest for every day.
"""

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

Row = Sequence[Any]


def canonical(value: Any) -> Any:
    """One JSON rendering for each value, whatever type or precision it was stored with."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value else "0"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): canonical(inner) for key, inner in value.items()}
    if isinstance(value, list | tuple):
        return [canonical(inner) for inner in value]
    return value


@dataclass(frozen=True, slots=True)
class StateDigest:
    digest: str
    rows: int


def state_digest(rows: Iterable[Row]) -> StateDigest:
    lines = sorted(
        json.dumps(canonical(list(row)), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        for row in rows
    )
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line.encode())
        digest.update(b"\n")
    return StateDigest(f"sha256:{digest.hexdigest()}", len(lines))
