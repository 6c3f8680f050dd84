"""Customer status history (lead -> active on conversion or a Won deal), for the timeline.

Revision ID: 0005_customer_status_changes
Revises: 0004_estimate_updated_by
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005_customer_status_changes"
down_revision: str | None = "0004_estimate_updated_by"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    status = postgresql.ENUM(name="customer_status", create_type=False)
    op.create_table(
        "customer_status_changes",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("from_status", status, nullable=False),
        sa.Column("to_status", status, nullable=False),
        sa.Column("changed_by", sa.Uuid(), nullable=True),
        sa.Column(
            "changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"],
            name="fk_customer_status_changes_customer_id_customers", ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["changed_by"], ["users.id"],
            name="fk_customer_status_changes_changed_by_users", ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_customer_status_changes"),
    )  # fmt: skip
    op.create_index(
        "ix_status_changes_customer_at", "customer_status_changes", ["customer_id", "changed_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_status_changes_customer_at", table_name="customer_status_changes")
    op.drop_table("customer_status_changes")
