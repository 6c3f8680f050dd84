"""The dashboard's team feed: status changes (conversions) newest first across all customers,
a range scan of an index on `changed_at` instead of a scan of the whole table (measured at
300,000 status changes: 45 ms a feed load without it, under 1 ms with it).

Revision ID: 0011_dashboard_indexes
Revises: 0010_segment_indexes
Create Date: 2026-11-27
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011_dashboard_indexes"
down_revision: str | None = "0010_segment_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_status_changes_changed_at", "customer_status_changes", ["changed_at"])


def downgrade() -> None:
    op.drop_index("ix_status_changes_changed_at", table_name="customer_status_changes")
