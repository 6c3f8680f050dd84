"""Saved segments get an owner: the owner or a manager renames, changes or deletes one.

Existing segments are owned by whoever created them; one whose creator is gone (or never
known) has no owner, and only managers may change it.

Revision ID: 0013_segment_owner
Revises: 0012_notification_notify
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision: str = "0013_segment_owner"
down_revision: str | None = "0012_notification_notify"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("segments", sa.Column("owner_id", UUID(as_uuid=True)))
    op.create_foreign_key(
        "fk_segments_owner_id_users",
        "segments",
        "users",
        ["owner_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.execute("UPDATE segments SET owner_id = created_by")


def downgrade() -> None:
    op.drop_constraint("fk_segments_owner_id_users", "segments", type_="foreignkey")
    op.drop_column("segments", "owner_id")
