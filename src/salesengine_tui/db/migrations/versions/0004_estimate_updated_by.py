"""Who last changed an estimate (the board names them when an edit loses an optimistic lock),
and the value-sorted board index gains `id` so keyset pages need no extra sort.

Revision ID: 0004_estimate_updated_by
Revises: 0003_platform_tables
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_estimate_updated_by"
down_revision: str | None = "0003_platform_tables"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("estimates", sa.Column("updated_by", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        "fk_estimates_updated_by_users",
        "estimates",
        "users",
        ["updated_by"],
        ["id"],
        ondelete="SET NULL",
    )
    op.drop_index("ix_estimates_stage_amount", table_name="estimates")
    op.create_index("ix_estimates_stage_amount", "estimates", ["stage_id", "amount", "id"])


def downgrade() -> None:
    op.drop_index("ix_estimates_stage_amount", table_name="estimates")
    op.create_index("ix_estimates_stage_amount", "estimates", ["stage_id", "amount"])
    op.drop_constraint("fk_estimates_updated_by_users", "estimates", type_="foreignkey")
    op.drop_column("estimates", "updated_by")
