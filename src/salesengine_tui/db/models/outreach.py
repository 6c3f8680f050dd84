"""What comes back from email: the providers' events (bounces, complaints, unsubscribes,
deliveries, replies), each stored once, and how far the suppression pull has read."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .columns import fk, timestamptz, uuid_pk

# Kept in step with `email.events.EventKind` (a CHECK, not an enum type: adding a kind later
# is a constraint swap, not an ALTER TYPE outside a transaction).
EVENT_KINDS = (
    "delivered",
    "bounced",
    "soft_bounced",
    "complained",
    "unsubscribed",
    "resubscribed",
    "dropped",
    "replied",
)


class EmailEvent(SQLModel, table=True):
    """One event a provider told us about, stored once per provider and event key (its event
    id, or a key made of what identifies the event): a replayed webhook inserts nothing."""

    __tablename__ = "email_events"
    __table_args__ = (
        sa.UniqueConstraint("provider", "event_key"),
        sa.CheckConstraint(
            "kind IN (" + ", ".join(f"'{kind}'" for kind in EVENT_KINDS) + ")", name="known_kind"
        ),
        # A blast's outcome counts: one index-only range per blast (distinct emails per kind).
        sa.Index(
            "ix_email_events_blast_kind",
            "blast_id",
            "kind",
            "outbox_id",
            postgresql_where=sa.text("blast_id IS NOT NULL"),
        ),
        sa.Index("ix_email_events_outbox", "outbox_id"),
        sa.Index("ix_email_events_customer_at", "customer_id", "occurred_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=uuid_pk())
    provider: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    event_key: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    kind: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    email: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    outbox_id: uuid.UUID | None = Field(
        default=None, sa_column=fk("email_outbox.id", ondelete="SET NULL")
    )
    customer_id: uuid.UUID | None = Field(
        default=None, sa_column=fk("customers.id", ondelete="CASCADE")
    )
    blast_id: uuid.UUID | None = Field(default=None, sa_column=fk("blasts.id", ondelete="SET NULL"))
    estimate_id: uuid.UUID | None = Field(
        default=None, sa_column=fk("estimates.id", ondelete="SET NULL")
    )
    # The provider's words (a bounce's description), one line, no control characters.
    detail: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    occurred_at: datetime = Field(sa_column=timestamptz(now_default=False))
    received_at: datetime | None = Field(default=None, sa_column=timestamptz())


class EmailSyncMark(SQLModel, table=True):
    """How far `salesengine-jobs once suppressions` has read one provider feed (Postmark's
    bounces, SendGrid's spam reports, ...): the next pull asks from here."""

    __tablename__ = "email_sync_marks"

    provider: str = Field(sa_column=sa.Column(sa.Text, primary_key=True, nullable=False))
    feed: str = Field(sa_column=sa.Column(sa.Text, primary_key=True, nullable=False))
    synced_until: datetime = Field(sa_column=timestamptz(now_default=False))
    synced_at: datetime | None = Field(default=None, sa_column=timestamptz())
