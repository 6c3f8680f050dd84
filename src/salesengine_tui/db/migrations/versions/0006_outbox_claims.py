"""The outbox sender's lease: when a row was claimed (a crashed sender's rows go back to the
queue once the lease is over), and the message stream a row goes out on.

Revision ID: 0006_outbox_claims
Revises: 0005_customer_status_changes
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_outbox_claims"
down_revision: str | None = "0005_customer_status_changes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("email_outbox", sa.Column("claimed_at", sa.DateTime(timezone=True)))
    op.create_index(
        "ix_email_outbox_claimed",
        "email_outbox",
        ["claimed_at"],
        postgresql_where=sa.text("status = 'sending'"),
    )


def downgrade() -> None:
    op.drop_index("ix_email_outbox_claimed", table_name="email_outbox")
    op.drop_column("email_outbox", "claimed_at")
