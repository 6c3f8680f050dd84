"""Customers' next-step columns go: tasks (revision 0014) replaced them, and nothing reads them.

The downgrade brings the columns back filled from each customer's soonest open task.

Revision ID: 0016_drop_next_step
Revises: 0015_search
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_drop_next_step"
down_revision: str | None = "0015_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_customers_next_step_at", table_name="customers")
    op.drop_column("customers", "next_step_at")
    op.drop_column("customers", "next_step")


def downgrade() -> None:
    op.add_column("customers", sa.Column("next_step", sa.Text))
    op.add_column("customers", sa.Column("next_step_at", sa.DateTime(timezone=True)))
    op.create_index("ix_customers_next_step_at", "customers", ["next_step_at"])
    op.execute(
        """
        UPDATE customers c SET next_step = t.title, next_step_at = t.due_at
        FROM (SELECT DISTINCT ON (customer_id) customer_id, title, due_at FROM tasks
              WHERE done_at IS NULL ORDER BY customer_id, due_at) t
        WHERE t.customer_id = c.id
        """
    )
