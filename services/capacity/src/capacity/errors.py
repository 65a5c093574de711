"""The capacity refusals (C2, C3), as problem types of their own."""

from keel.errors import Conflict


class CapacityExceeded(Conflict):
    slug, title = "capacity-exceeded", "Capacity exceeded"

    def __init__(self, *, limit: int, used: int) -> None:
        super().__init__(
            f"the partner holds {used} active registrations and its limit is {limit} (C2)",
            extensions={"limit": limit, "used": used},
        )


class DomainUnavailable(Conflict):
    """Never says who holds the domain, or whether the vendor reserves it (C3)."""

    slug, title = "domain-unavailable", "Domain unavailable"

    def __init__(self, domain: str) -> None:
        super().__init__(f"{domain} cannot be registered: it is reserved or already registered")
