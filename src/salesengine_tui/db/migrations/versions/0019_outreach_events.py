"""The outreach loop: providers' events (bounces, complaints, unsubscribes, deliveries,
replies) stored once each, how far the suppression pull has read, and the links that let what
comes back find its email: the outbox row's deal and blast, the timeline entry's email, and
why an address is suppressed. Existing outbox rows get their deal and blast from their keys.

Revision ID: 0019_outreach_events
Revises: 0018_opt_out_changes
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_outreach_events"
down_revision: str | None = "0018_opt_out_changes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = (
    "delivered", "bounced", "soft_bounced", "complained", "unsubscribed", "resubscribed",
    "dropped", "replied",
)  # fmt: skip


def upgrade() -> None:
    op.add_column("email_outbox", sa.Column("estimate_id", sa.Uuid(), nullable=True))
    op.add_column("email_outbox", sa.Column("blast_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        "fk_email_outbox_estimate_id_estimates", "email_outbox", "estimates",
        ["estimate_id"], ["id"], ondelete="SET NULL",
    )  # fmt: skip
    op.create_foreign_key(
        "fk_email_outbox_blast_id_blasts", "email_outbox", "blasts",
        ["blast_id"], ["id"], ondelete="SET NULL",
    )  # fmt: skip
    op.create_index(
        "ix_email_outbox_provider_message", "email_outbox", ["provider_message_id"],
        postgresql_where=sa.text("provider_message_id IS NOT NULL"),
    )  # fmt: skip
    # Keys are nurture:<estimate>:<entry>:<n> and blast:<blast>:<customer>; a key whose deal
    # or blast is gone keeps NULL.
    op.execute(
        """
        UPDATE email_outbox o SET estimate_id = e.id
        FROM estimates e
        WHERE o.idempotency_key COLLATE "C" >= 'nurture:'
          AND o.idempotency_key COLLATE "C" < 'nurture;'
          AND e.id::text = split_part(o.idempotency_key, ':', 2)
        """
    )
    op.execute(
        """
        UPDATE email_outbox o SET blast_id = b.id
        FROM blasts b
        WHERE o.idempotency_key COLLATE "C" >= 'blast:'
          AND o.idempotency_key COLLATE "C" < 'blast;'
          AND b.id::text = split_part(o.idempotency_key, ':', 2)
        """
    )
    op.add_column("customers", sa.Column("email_suppressed_reason", sa.Text(), nullable=True))
    op.add_column("customer_interactions", sa.Column("outbox_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        "fk_customer_interactions_outbox_id_email_outbox", "customer_interactions",
        "email_outbox", ["outbox_id"], ["id"], ondelete="SET NULL",
    )  # fmt: skip
    op.create_table(
        "email_events",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("event_key", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("outbox_id", sa.Uuid(), nullable=True),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("blast_id", sa.Uuid(), nullable=True),
        sa.Column("estimate_id", sa.Uuid(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN (" + ", ".join(f"'{kind}'" for kind in KINDS) + ")",
            name=op.f("ck_email_events_known_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["outbox_id"], ["email_outbox.id"], name="fk_email_events_outbox_id_email_outbox",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_email_events_customer_id_customers",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["blast_id"], ["blasts.id"], name="fk_email_events_blast_id_blasts",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["estimate_id"], ["estimates.id"], name="fk_email_events_estimate_id_estimates",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_email_events"),
        sa.UniqueConstraint(
            "provider", "event_key", name="uq_email_events_provider_event_key"
        ),
    )  # fmt: skip
    op.create_index(
        "ix_email_events_blast_kind", "email_events", ["blast_id", "kind", "outbox_id"],
        postgresql_where=sa.text("blast_id IS NOT NULL"),
    )  # fmt: skip
    op.create_index("ix_email_events_outbox", "email_events", ["outbox_id"])
    op.create_index("ix_email_events_customer_at", "email_events", ["customer_id", "occurred_at"])
    op.create_table(
        "email_sync_marks",
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("feed", sa.Text(), nullable=False),
        sa.Column("synced_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "synced_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("provider", "feed", name="pk_email_sync_marks"),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("email_sync_marks")
    op.drop_index("ix_email_events_customer_at", table_name="email_events")
    op.drop_index("ix_email_events_outbox", table_name="email_events")
    op.drop_index("ix_email_events_blast_kind", table_name="email_events")
    op.drop_table("email_events")
    op.drop_constraint(
        "fk_customer_interactions_outbox_id_email_outbox", "customer_interactions",
        type_="foreignkey",
    )  # fmt: skip
    op.drop_column("customer_interactions", "outbox_id")
    op.drop_column("customers", "email_suppressed_reason")
    op.drop_index("ix_email_outbox_provider_message", table_name="email_outbox")
    op.drop_constraint("fk_email_outbox_blast_id_blasts", "email_outbox", type_="foreignkey")
    op.drop_constraint("fk_email_outbox_estimate_id_estimates", "email_outbox", type_="foreignkey")
    op.drop_column("email_outbox", "blast_id")
    op.drop_column("email_outbox", "estimate_id")
