"""Idempotency keys searched by prefix (`nurture:<estimate>:<entry>:`): a byte-ordered index
so "how many follow-ups has this stage entry had" is a range scan, not a scan of the outbox.

Revision ID: 0007_outbox_key_prefix
Revises: 0006_outbox_claims
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_outbox_key_prefix"
down_revision: str | None = "0006_outbox_claims"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_email_outbox_key_bytes", "email_outbox", [sa.text('idempotency_key COLLATE "C"')]
    )


def downgrade() -> None:
    op.drop_index("ix_email_outbox_key_bytes", table_name="email_outbox")
