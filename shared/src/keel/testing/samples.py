"""Sample events as upstream producers send them (JSON-ready dicts), for tests and benchmarks."""

from datetime import datetime
from typing import Any


def upstream_event(
    event_id: str,
    type_name: str,
    time: datetime | str,
    *,
    source: str = "product/accounts",
    **data: Any,
) -> dict[str, Any]:
    """A CloudEvent of any type as an upstream producer posts it; `data` fields that are None are
    left out."""
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": source,
        "type": type_name,
        "time": time if isinstance(time, str) else time.isoformat(),
        "data": {name: value for name, value in data.items() if value is not None},
    }


def activity_event(
    event_id: str, time: datetime | str, *, source: str = "product/blog", **data: Any
) -> dict[str, Any]:
    """An `activity.performed` CloudEvent; `data` overrides (or, with None, removes) fields."""
    payload: dict[str, Any] = {
        "user_id": "u-1",
        "user_email": "ana@agency.example",
        "client_id": "c-1",
        "tool": "blog",
        "action": "blog.post_published",
    }
    payload.update(data)
    return upstream_event(event_id, "activity.performed", time, source=source, **payload)
