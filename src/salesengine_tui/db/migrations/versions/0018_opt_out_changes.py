"""Email opt-out history: each time a customer is opted out of email or back in, when, how
(the unsubscribe link or staff on the profile) and by whom. The customer's timeline shows these,
and opting back in names the opt-out it undoes. Customers opted out before this revision get
one entry at their opt-out time, how not recorded.

Revision ID: 0018_opt_out_changes
Revises: 0017_phones_initials
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_opt_out_changes"
down_revision: str | None = "0017_phones_initials"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "customer_opt_out_changes",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        sa.Column("via", sa.Text(), nullable=True),
        sa.Column("changed_by", sa.Uuid(), nullable=True),
        sa.Column(
            "changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"],
            name="fk_customer_opt_out_changes_customer_id_customers", ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["changed_by"], ["users.id"],
            name="fk_customer_opt_out_changes_changed_by_users", ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_customer_opt_out_changes"),
    )  # fmt: skip
    op.create_index(
        "ix_opt_out_changes_customer_at", "customer_opt_out_changes", ["customer_id", "changed_at"]
    )
    op.execute(
        """
        INSERT INTO customer_opt_out_changes (customer_id, opted_out, via, changed_at)
        SELECT id, true, NULL, COALESCE(opted_out_at, updated_at, now())
        FROM customers WHERE email_opt_out
        """
    )


def downgrade() -> None:
    op.drop_index("ix_opt_out_changes_customer_at", table_name="customer_opt_out_changes")
    op.drop_table("customer_opt_out_changes")
