from datetime import datetime

from sqlalchemy import Column, DateTime, Index, text
from sqlmodel import Field, SQLModel

from keel.db import new_registry


class CapacityTable(SQLModel, registry=new_registry()):
    pass


metadata = CapacityTable.metadata

ACTIVE = "active"
DEREGISTERED = "deregistered"
EXPIRED = "expired"


class PartnerCapacity(CapacityTable, table=True):
    """What sets a partner's limit (C2, C6), and the row every registration of the partner locks
    first, so registrations of one partner are counted one at a time and never overbook."""

    __tablename__ = "partner_capacity"

    partner_id: str = Field(primary_key=True)
    partner_type: str = "solutions"
    tier: str | None = None
    # The rollup that credited `tier`: only a later (month, revision) replaces it (C6).
    tier_month: str | None = None
    tier_revision: int | None = None
    # At least the partner's registrations with status `active` (C2): +1 with each registration,
    # never lowered by deregistration or expiry, and reset to the exact count under the lock
    # whenever it reaches the limit. Below the limit it proves the partner is under it, so a
    # registration is decided in one statement; at the limit the registrations are counted.
    active_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class Registration(CapacityTable, table=True):
    """A lead's registrable domain held by a partner (C1). `active` until deregistered (C5) or
    expired (C4); an active row whose `expires_at` has passed counts as expired everywhere, even
    before the sweep marks it."""

    __tablename__ = "registration"
    __table_args__ = (
        # C3: one active registration per domain across all partners.
        Index(
            "uq_registration_domain_active",
            "domain",
            unique=True,
            postgresql_where=text("status = 'active'"),
        ),
        Index(
            "ix_registration_partner_id_active",
            "partner_id",
            "expires_at",
            postgresql_where=text("status = 'active'"),
        ),
        Index(None, "partner_id", "registered_at"),
        Index(None, "domain", "registered_at"),
        Index(
            "ix_registration_expires_at_active",
            "expires_at",
            postgresql_where=text("status = 'active' AND expires_at IS NOT NULL"),
        ),
    )

    id: str = Field(primary_key=True)
    partner_id: str
    domain: str
    website: str
    company: str
    contact_name: str
    country: str
    status: str = ACTIVE
    registered_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    expires_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    ended_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
