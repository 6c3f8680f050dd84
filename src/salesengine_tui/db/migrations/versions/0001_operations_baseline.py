"""Operations baseline: the tables the plan assumes already exist (no sales columns yet).

Revision ID: 0001_operations_baseline
Revises:
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_operations_baseline"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UUID_DEFAULT = sa.text("gen_random_uuid()")
NOW = sa.text("now()")


def _id() -> sa.Column:
    return sa.Column("id", sa.Uuid(), server_default=UUID_DEFAULT, nullable=False)


def _ts(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), server_default=NOW, nullable=False)


def upgrade() -> None:
    op.create_table(
        "users",
        _id(),
        sa.Column("login", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column(
            "role",
            sa.Enum("rep", "manager", "technician", "system", name="user_role"),
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        _ts("created_at"),
        sa.CheckConstraint(
            "login ~ '^[a-z0-9][a-z0-9._-]{0,62}$'", name=op.f("ck_users_login_format")
        ),
        sa.CheckConstraint("length(btrim(name)) > 0", name=op.f("ck_users_name_not_blank")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("login", name=op.f("uq_users_login")),
    )
    op.create_table(
        "customers",
        _id(),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("city", sa.Text(), nullable=True),
        sa.Column("state", sa.Text(), nullable=True),
        sa.Column("postal_code", sa.Text(), nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
        sa.CheckConstraint("length(btrim(name)) > 0", name=op.f("ck_customers_name_not_blank")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
    )
    op.create_index(
        "ix_customers_email_lower", "customers", [sa.literal_column("lower(email)")], unique=False
    )
    op.create_index("ix_customers_phone", "customers", ["phone"], unique=False)
    op.create_table(
        "equipment",
        _id(),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("brand", sa.Text(), nullable=True),
        sa.Column("model", sa.Text(), nullable=True),
        sa.Column("serial_number", sa.Text(), nullable=True),
        sa.Column("installed_on", sa.Date(), nullable=False),
        _ts("created_at"),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_equipment_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equipment")),
    )
    op.create_index("ix_equipment_customer_installed", "equipment", ["customer_id", "installed_on"])
    op.create_index("ix_equipment_installed_on", "equipment", ["installed_on"])
    op.create_index("ix_equipment_kind", "equipment", ["kind"])
    op.create_table(
        "tickets",
        _id(),
        sa.Column("number", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("equipment_id", sa.Uuid(), nullable=True),
        sa.Column("technician_id", sa.Uuid(), nullable=True),
        sa.Column(
            "status",
            sa.Enum("open", "booked", "in_progress", "closed", "cancelled", name="ticket_status"),
            nullable=False,
        ),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("resolution", sa.Text(), nullable=True),
        _ts("opened_at"),
        sa.Column("scheduled_for", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(status = 'closed') = (closed_at IS NOT NULL)",
            name=op.f("ck_tickets_closed_at_iff_closed"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_tickets_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["equipment_id"],
            ["equipment.id"],
            name=op.f("fk_tickets_equipment_id_equipment"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["technician_id"],
            ["users.id"],
            name=op.f("fk_tickets_technician_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
        sa.UniqueConstraint("number", name=op.f("uq_tickets_number")),
    )
    op.create_index("ix_tickets_customer_closed", "tickets", ["customer_id", "closed_at"])
    op.create_index(
        "ix_tickets_end_of_life",
        "tickets",
        ["closed_at"],
        postgresql_where=sa.text("resolution = 'Equipment End of Life'"),
    )
    op.create_index(op.f("ix_tickets_equipment_id"), "tickets", ["equipment_id"])
    op.create_index(op.f("ix_tickets_technician_id"), "tickets", ["technician_id"])
    op.create_table(
        "estimates",
        _id(),
        sa.Column("number", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column(
            "status",
            sa.Enum("draft", "sent", "accepted", "declined", name="estimate_status"),
            nullable=False,
        ),
        sa.Column("equipment_id", sa.Uuid(), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_estimates_amount_not_negative")),
        sa.CheckConstraint("length(btrim(title)) > 0", name=op.f("ck_estimates_title_not_blank")),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_estimates_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_estimates_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["equipment_id"],
            ["equipment.id"],
            name=op.f("fk_estimates_equipment_id_equipment"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_estimates")),
        sa.UniqueConstraint("number", name=op.f("uq_estimates_number")),
    )
    op.create_index("ix_estimates_customer", "estimates", ["customer_id"])


def downgrade() -> None:
    for table in ("estimates", "tickets", "equipment", "customers", "users"):
        op.drop_table(table)
    for enum in ("estimate_status", "ticket_status", "user_role"):
        op.execute(f"DROP TYPE IF EXISTS {enum}")
