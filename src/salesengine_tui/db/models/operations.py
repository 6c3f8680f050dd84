"""The operations platform's tables, which the sales engine extends (plan section 1).

The baseline migration creates them without any sales column; the sales extension adds
`customers.status`, `lead_source`, ownership and the estimate's stage link.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .columns import fk, timestamptz, uuid_pk
from .enums import CustomerStatus, EstimateStatus, TicketStatus, UserRole, pg_enum


class User(SQLModel, table=True):
    __tablename__ = "users"
    __mapper_args__ = {"eager_defaults": True}
    __table_args__ = (
        sa.CheckConstraint("login ~ '^[a-z0-9][a-z0-9._-]{0,62}$'", name="login_format"),
        sa.CheckConstraint("length(btrim(name)) > 0", name="name_not_blank"),
        sa.CheckConstraint("initials ~ '^[[:alnum:]]{1,5}$'", name="initials_format"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=uuid_pk())
    login: str = Field(sa_column=sa.Column(sa.Text, nullable=False, unique=True))
    name: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    # Shown on cards and lists, unique on the desk ("JW", "JWi"); when left out, the insert
    # trigger of revision 0017 picks free ones from the name (`salesengine_free_initials`),
    # and the insert reads them back (eager_defaults), so an object never holds a stale None.
    initials: str | None = Field(
        default=None,
        sa_column=sa.Column(sa.Text, nullable=False, unique=True, server_default=sa.FetchedValue()),
    )
    email: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    role: UserRole = Field(sa_column=sa.Column(pg_enum(UserRole, "user_role"), nullable=False))
    # Users are deactivated, never deleted: their name stays on the history they wrote.
    active: bool = Field(
        default=True, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.true())
    )
    created_at: datetime | None = Field(default=None, sa_column=timestamptz())
    # The person's PostgreSQL role (revision 0021): made or attached by the insert trigger,
    # so it is read back after an insert; None for the system user.
    db_role: str | None = Field(
        default=None,
        sa_column=sa.Column(sa.Text, unique=True, server_default=sa.FetchedValue()),
    )


def _pattern_index(name: str, expression: str) -> sa.Index:
    """A btree on `expression` in byte order (`text_pattern_ops`): "starts with" is a range
    of it in any collation (search)."""
    return sa.Index(
        name,
        sa.literal_column(expression).label("key"),
        postgresql_ops={"key": "text_pattern_ops"},
    )


class Customer(SQLModel, table=True):
    __tablename__ = "customers"
    __table_args__ = (
        sa.CheckConstraint("length(btrim(name)) > 0", name="name_not_blank"),
        sa.CheckConstraint("version >= 1", name="version_positive"),
        # The leads inbox: newest and never-contacted first, over leads only.
        sa.Index(
            "ix_customers_inbox",
            sa.text("last_interaction_at ASC NULLS FIRST"),
            sa.text("created_at DESC"),
            postgresql_where=sa.text("status = 'lead'"),
        ),
        sa.Index("ix_customers_status_created", "status", "created_at"),
        # The inbox listing active, churned or all customers, status first (migration 0015).
        sa.Index(
            "ix_customers_status_inbox",
            "status",
            sa.text("last_interaction_at ASC NULLS FIRST"),
            sa.text("created_at DESC"),
            postgresql_include=["id"],
        ),
        sa.Index("ix_customers_lead_source", "lead_source"),
        sa.Index("ix_customers_postal_code", "postal_code"),
        sa.Index("ix_customers_city", "city"),
        # Byte-order (text_pattern_ops): equality, and an email typed from its start (search).
        _pattern_index("ix_customers_email_lower", "lower(email)"),
        sa.Index("ix_customers_phone", "phone"),
        # Segment and blast previews: the first members by name without sorting them all.
        sa.Index("ix_customers_name_id", "name", "id"),
        # Search (migration 0015, which defines the functions): a name from its start, a
        # name's later part ("smith"), its words in any order, a phone from either end.
        _pattern_index("ix_customers_name_lower", "lower(name)"),
        _pattern_index("ix_customers_name_rest", "salesengine_name_rest(name)"),
        sa.Index(
            "ix_customers_name_words",
            sa.text("salesengine_search_words(name)"),
            postgresql_using="gin",
        ),
        _pattern_index("ix_customers_phone_key", "salesengine_phone_key(phone)"),
        _pattern_index("ix_customers_phone_key_reversed", "reverse(salesengine_phone_key(phone))"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=uuid_pk())
    name: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    email: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    # E.164 ("+19726532552"; a number revision 0017 could not read stays as typed), and its
    # extension apart (digits): `customers.phones`.
    phone: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    phone_ext: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    address: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    city: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    state: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    postal_code: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    created_at: datetime | None = Field(default=None, sa_column=timestamptz())
    updated_at: datetime | None = Field(default=None, sa_column=timestamptz())
    # --- sales extension (revision 0002) ---
    status: CustomerStatus = Field(
        default=CustomerStatus.lead,
        sa_column=sa.Column(
            pg_enum(CustomerStatus, "customer_status"),
            nullable=False,
            server_default=CustomerStatus.lead.value,
        ),
    )
    lead_source: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    owner_id: uuid.UUID | None = Field(
        default=None, sa_column=fk("users.id", ondelete="SET NULL", index=True)
    )
    email_opt_out: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false())
    )
    opted_out_at: datetime | None = Field(
        default=None, sa_column=timestamptz(nullable=True, now_default=False)
    )
    email_suppressed_at: datetime | None = Field(
        default=None, sa_column=timestamptz(nullable=True, now_default=False)
    )
    # Why the provider will not deliver to the address (a hard bounce, a spam complaint, ...).
    email_suppressed_reason: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    # Kept by the domain layer on every interaction, so the inbox sorts without a join.
    last_interaction_at: datetime | None = Field(
        default=None, sa_column=timestamptz(nullable=True, now_default=False)
    )
    version: int = Field(
        default=1, sa_column=sa.Column(sa.Integer, nullable=False, server_default="1")
    )


class Equipment(SQLModel, table=True):
    __tablename__ = "equipment"
    __table_args__ = (
        sa.Index("ix_equipment_customer_installed", "customer_id", "installed_on"),
        sa.Index("ix_equipment_installed_on", "installed_on"),
        sa.Index("ix_equipment_kind", "kind"),
        # Segments compare kinds case-insensitively; `kind` is included so that the scan is
        # index-only (the planner wants the column, not just lower(kind)).
        sa.Index(
            "ix_equipment_kind_lower",
            sa.text("lower(kind)"),
            "customer_id",
            postgresql_include=["kind"],
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=uuid_pk())
    customer_id: uuid.UUID = Field(sa_column=fk("customers.id", ondelete="CASCADE", nullable=False))
    kind: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    brand: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    model: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    serial_number: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    installed_on: date = Field(sa_column=sa.Column(sa.Date, nullable=False))
    created_at: datetime | None = Field(default=None, sa_column=timestamptz())


class Ticket(SQLModel, table=True):
    __tablename__ = "tickets"
    __table_args__ = (
        sa.CheckConstraint(
            "(status = 'closed') = (closed_at IS NOT NULL)", name="closed_at_iff_closed"
        ),
        sa.Index("ix_tickets_customer_closed", "customer_id", "closed_at"),
        sa.Index(
            "ix_tickets_end_of_life",
            "closed_at",
            postgresql_where=sa.text("resolution = 'Equipment End of Life'"),
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=uuid_pk())
    # The number people say on the phone and type on the command line.
    number: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.BigInteger, sa.Identity(), nullable=False, unique=True),
    )
    customer_id: uuid.UUID = Field(sa_column=fk("customers.id", ondelete="CASCADE", nullable=False))
    equipment_id: uuid.UUID | None = Field(
        default=None, sa_column=fk("equipment.id", ondelete="SET NULL", index=True)
    )
    technician_id: uuid.UUID | None = Field(
        default=None, sa_column=fk("users.id", ondelete="SET NULL", index=True)
    )
    status: TicketStatus = Field(
        default=TicketStatus.open,
        sa_column=sa.Column(pg_enum(TicketStatus, "ticket_status"), nullable=False),
    )
    summary: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    resolution: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    opened_at: datetime | None = Field(default=None, sa_column=timestamptz())
    scheduled_for: datetime | None = Field(
        default=None, sa_column=timestamptz(nullable=True, now_default=False)
    )
    closed_at: datetime | None = Field(
        default=None, sa_column=timestamptz(nullable=True, now_default=False)
    )


class Estimate(SQLModel, table=True):
    __tablename__ = "estimates"
    __table_args__ = (
        sa.CheckConstraint("amount >= 0", name="amount_not_negative"),
        sa.CheckConstraint("length(btrim(title)) > 0", name="title_not_blank"),
        sa.CheckConstraint("version >= 1", name="version_positive"),
        sa.CheckConstraint(
            "(stage_id IS NULL) = (stage_entered_at IS NULL)", name="stage_entry_with_stage"
        ),
        # The board: a column's cards in days-in-stage order, paged by keyset.
        sa.Index("ix_estimates_board", "stage_id", "stage_entered_at", "id"),
        # Sorted by value: largest first, paged by keyset on (amount, id).
        sa.Index("ix_estimates_stage_amount", "stage_id", "amount", "id"),
        sa.Index("ix_estimates_customer", "customer_id"),
        # The board's "closing this month" filter and the forecast by close month.
        sa.Index(
            "ix_estimates_expected_close",
            "expected_close_on",
            postgresql_where=sa.text("expected_close_on IS NOT NULL"),
        ),
        # Search by title words (migration 0015).
        sa.Index(
            "ix_estimates_title_words",
            sa.text("salesengine_search_words(title)"),
            postgresql_using="gin",
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=uuid_pk())
    number: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.BigInteger, sa.Identity(), nullable=False, unique=True),
    )
    customer_id: uuid.UUID = Field(sa_column=fk("customers.id", ondelete="CASCADE", nullable=False))
    title: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    amount: Decimal = Field(sa_column=sa.Column(sa.Numeric(12, 2), nullable=False))
    status: EstimateStatus = Field(
        default=EstimateStatus.draft,
        sa_column=sa.Column(pg_enum(EstimateStatus, "estimate_status"), nullable=False),
    )
    equipment_id: uuid.UUID | None = Field(
        default=None, sa_column=fk("equipment.id", ondelete="SET NULL")
    )
    created_by: uuid.UUID | None = Field(
        default=None, sa_column=fk("users.id", ondelete="SET NULL")
    )
    created_at: datetime | None = Field(default=None, sa_column=timestamptz())
    updated_at: datetime | None = Field(default=None, sa_column=timestamptz())
    # --- sales extension (revision 0002) ---
    # RESTRICT: a stage that still holds estimates cannot be deleted.
    stage_id: uuid.UUID | None = Field(
        default=None, sa_column=fk("deal_stages.id", ondelete="RESTRICT")
    )
    stage_entered_at: datetime | None = Field(
        default=None, sa_column=timestamptz(nullable=True, now_default=False)
    )
    owner_id: uuid.UUID | None = Field(
        default=None, sa_column=fk("users.id", ondelete="SET NULL", index=True)
    )
    # Unique: one end-of-life ticket makes at most one opportunity.
    source_ticket_id: uuid.UUID | None = Field(
        default=None,
        sa_column=sa.Column(sa.Uuid, sa.ForeignKey("tickets.id", ondelete="SET NULL"), unique=True),
    )
    lost_reason: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    # Who made the last change: named to whoever loses an optimistic-lock race.
    updated_by: uuid.UUID | None = Field(
        default=None, sa_column=fk("users.id", ondelete="SET NULL")
    )
    version: int = Field(
        default=1, sa_column=sa.Column(sa.Integer, nullable=False, server_default="1")
    )
    # --- the daily workflow (revision 0014) ---
    expected_close_on: date | None = Field(default=None, sa_column=sa.Column(sa.Date))
    # True while the amount is the system's guess (an upsell's median), until a person sets it.
    amount_estimated: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false())
    )
