"""Email blasts: one row per blast to a segment (content, recipients, exclusions by reason).

Revision ID: 0009_blasts
Revises: 0008_ticket_closed_notify
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision: str = "0009_blasts"
down_revision: str | None = "0008_ticket_closed_notify"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "blasts",
        sa.Column("id", UUID(as_uuid=True), server_default=sa.text("gen_random_uuid()")),
        sa.Column("content_key", sa.Text, nullable=False),
        sa.Column("segment_id", UUID(as_uuid=True)),
        sa.Column("segment_name", sa.Text),
        sa.Column("definition", JSONB, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("recipients", sa.Integer, nullable=False, server_default="0"),
        sa.Column("excluded", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("created_by", UUID(as_uuid=True)),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["segments.id"],
            name="fk_blasts_segment_id_segments",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name="fk_blasts_created_by_users", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_blasts"),
        sa.UniqueConstraint("content_key", name="uq_blasts_content_key"),
    )
    op.create_index("ix_blasts_created_at", "blasts", ["created_at"])


def downgrade() -> None:
    op.drop_table("blasts")
