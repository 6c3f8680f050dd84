"""Tables the later issues fill: the email outbox, notifications, saved segments, job runs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from .columns import fk, timestamptz, uuid_pk
from .enums import OutboxStatus, pg_enum


class EmailOutbox(SQLModel, table=True):
    __tablename__ = "email_outbox"
    __table_args__ = (
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        # The sender's claim query: due rows in order.
        sa.Index(
            "ix_email_outbox_due",
            "next_attempt_at",
            postgresql_where=sa.text("status = 'queued'"),
        ),
        sa.Index("ix_email_outbox_customer", "customer_id"),
        # Events that carry only the provider's message id (Postmark's) find their email.
        sa.Index(
            "ix_email_outbox_provider_message",
            "provider_message_id",
            postgresql_where=sa.text("provider_message_id IS NOT NULL"),
        ),
        # Keys looked up by prefix (nurture counts a stage entry's follow-ups): byte order.
        sa.Index("ix_email_outbox_key_bytes", sa.text('idempotency_key COLLATE "C"')),
        # Rows a sender claimed: a crashed sender's go back to the queue after the lease.
        sa.Index(
            "ix_email_outbox_claimed",
            "claimed_at",
            postgresql_where=sa.text("status = 'sending'"),
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=uuid_pk())
    # e.g. nurture:<estimate>:<entry>:<n> or blast:<blast>:<customer>: enqueued twice, stored once.
    idempotency_key: str = Field(sa_column=sa.Column(sa.Text, nullable=False, unique=True))
    customer_id: uuid.UUID | None = Field(
        default=None, sa_column=fk("customers.id", ondelete="CASCADE")
    )
    to_email: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    to_name: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    subject: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    body_text: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    is_campaign: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false())
    )
    status: OutboxStatus = Field(
        default=OutboxStatus.queued,
        sa_column=sa.Column(
            pg_enum(OutboxStatus, "outbox_status"),
            nullable=False,
            server_default=OutboxStatus.queued.value,
        ),
    )
    attempts: int = Field(
        default=0, sa_column=sa.Column(sa.Integer, nullable=False, server_default="0")
    )
    last_error: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    provider: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    provider_message_id: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    # What the email is about, so what comes back (a bounce, a reply) finds it: the deal of a
    # follow-up, the blast of a campaign email.
    estimate_id: uuid.UUID | None = Field(
        default=None, sa_column=fk("estimates.id", ondelete="SET NULL")
    )
    blast_id: uuid.UUID | None = Field(default=None, sa_column=fk("blasts.id", ondelete="SET NULL"))
    created_by: uuid.UUID | None = Field(
        default=None, sa_column=fk("users.id", ondelete="SET NULL")
    )
    created_at: datetime | None = Field(default=None, sa_column=timestamptz())
    next_attempt_at: datetime | None = Field(default=None, sa_column=timestamptz())
    sent_at: datetime | None = Field(
        default=None, sa_column=timestamptz(nullable=True, now_default=False)
    )
    claimed_at: datetime | None = Field(
        default=None, sa_column=timestamptz(nullable=True, now_default=False)
    )


class Notification(SQLModel, table=True):
    __tablename__ = "notifications"
    __table_args__ = (
        sa.Index(
            "ix_notifications_unread",
            "user_id",
            "created_at",
            postgresql_where=sa.text("read_at IS NULL"),
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=uuid_pk())
    user_id: uuid.UUID = Field(sa_column=fk("users.id", ondelete="CASCADE", nullable=False))
    kind: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    title: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    body: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    customer_id: uuid.UUID | None = Field(
        default=None, sa_column=fk("customers.id", ondelete="CASCADE")
    )
    estimate_id: uuid.UUID | None = Field(
        default=None, sa_column=fk("estimates.id", ondelete="SET NULL")
    )
    # Makes each automated notification happen once per user (NULL for ad-hoc ones).
    dedupe_key: str | None = Field(default=None, sa_column=sa.Column(sa.Text, unique=True))
    created_at: datetime | None = Field(default=None, sa_column=timestamptz())
    read_at: datetime | None = Field(
        default=None, sa_column=timestamptz(nullable=True, now_default=False)
    )


class Segment(SQLModel, table=True):
    __tablename__ = "segments"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=uuid_pk())
    name: str = Field(sa_column=sa.Column(sa.Text, nullable=False, unique=True))
    definition: dict[str, Any] = Field(sa_column=sa.Column(JSONB, nullable=False))
    created_by: uuid.UUID | None = Field(
        default=None, sa_column=fk("users.id", ondelete="SET NULL")
    )
    # Who may rename, change or delete it besides a manager (none: managers only).
    owner_id: uuid.UUID | None = Field(default=None, sa_column=fk("users.id", ondelete="SET NULL"))
    created_at: datetime | None = Field(default=None, sa_column=timestamptz())
    updated_at: datetime | None = Field(default=None, sa_column=timestamptz())


class Blast(SQLModel, table=True):
    """One email blast to a segment: what was sent, to how many, and who was left out and why."""

    __tablename__ = "blasts"
    __table_args__ = (sa.Index("ix_blasts_created_at", "created_at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=uuid_pk())
    # The same content to the same segment on the same day is one blast (a second send finds it).
    content_key: str = Field(sa_column=sa.Column(sa.Text, nullable=False, unique=True))
    segment_id: uuid.UUID | None = Field(
        default=None, sa_column=fk("segments.id", ondelete="SET NULL")
    )
    segment_name: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    definition: dict[str, Any] = Field(sa_column=sa.Column(JSONB, nullable=False))
    subject: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    body: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    recipients: int = Field(
        default=0, sa_column=sa.Column(sa.Integer, nullable=False, server_default="0")
    )
    excluded: dict[str, Any] = Field(
        default_factory=dict,
        sa_column=sa.Column(JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    )
    created_by: uuid.UUID | None = Field(
        default=None, sa_column=fk("users.id", ondelete="SET NULL")
    )
    created_at: datetime | None = Field(default=None, sa_column=timestamptz())


class JobRun(SQLModel, table=True):
    __tablename__ = "job_runs"
    __table_args__ = (sa.Index("ix_job_runs_job_started", "job", "started_at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=uuid_pk())
    job: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    started_at: datetime | None = Field(default=None, sa_column=timestamptz())
    finished_at: datetime | None = Field(
        default=None, sa_column=timestamptz(nullable=True, now_default=False)
    )
    status: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    counts: dict[str, Any] = Field(
        default_factory=dict,
        sa_column=sa.Column(JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    )
    error: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    runner: str | None = Field(default=None, sa_column=sa.Column(sa.Text))  # which did it
