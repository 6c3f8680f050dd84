"""The sales extension (plan section 1B/1C): pipelines, stages, stage history, interactions."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .columns import fk, timestamptz, uuid_pk
from .enums import CustomerStatus, InteractionDirection, InteractionType, pg_enum


class DealPipeline(SQLModel, table=True):
    __tablename__ = "deal_pipelines"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=uuid_pk())
    name: str = Field(sa_column=sa.Column(sa.Text, nullable=False, unique=True))
    position: int = Field(
        default=0, sa_column=sa.Column(sa.Integer, nullable=False, server_default="0")
    )
    created_at: datetime | None = Field(default=None, sa_column=timestamptz())


class DealStage(SQLModel, table=True):
    __tablename__ = "deal_stages"
    __table_args__ = (
        sa.CheckConstraint("probability BETWEEN 0 AND 100", name="probability_range"),
        sa.CheckConstraint("NOT (is_won AND is_lost)", name="won_or_lost"),
        sa.CheckConstraint("rotting_days IS NULL OR rotting_days > 0", name="rotting_positive"),
        sa.CheckConstraint(
            "follow_up_after_days IS NULL OR follow_up_after_days > 0",
            name="follow_up_positive",
        ),
        sa.UniqueConstraint("pipeline_id", "name", name="uq_deal_stages_pipeline_name"),
        # Deferred so a reorder can swap two positions inside one transaction.
        sa.UniqueConstraint(
            "pipeline_id",
            "position",
            name="uq_deal_stages_pipeline_position",
            deferrable=True,
            initially="DEFERRED",
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=uuid_pk())
    # Deleting a pipeline takes its stages; estimates' RESTRICT still guards held stages.
    pipeline_id: uuid.UUID = Field(
        sa_column=fk("deal_pipelines.id", ondelete="CASCADE", nullable=False)
    )
    name: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    position: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    probability: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    is_won: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false())
    )
    is_lost: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false())
    )
    # A card older than this many days in the stage is "rotting" (None: never).
    rotting_days: int | None = Field(default=None, sa_column=sa.Column(sa.Integer))
    # Follow-up rule: email the customer after this many days without activity (None: no rule).
    follow_up_after_days: int | None = Field(default=None, sa_column=sa.Column(sa.Integer))


class EstimateStageHistory(SQLModel, table=True):
    __tablename__ = "estimate_stage_history"
    __table_args__ = (
        sa.Index("ix_stage_history_estimate_moved", "estimate_id", "moved_at"),
        sa.Index("ix_stage_history_moved_at", "moved_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=uuid_pk())
    estimate_id: uuid.UUID = Field(sa_column=fk("estimates.id", ondelete="CASCADE", nullable=False))
    from_stage_id: uuid.UUID | None = Field(
        default=None, sa_column=fk("deal_stages.id", ondelete="SET NULL")
    )
    to_stage_id: uuid.UUID | None = Field(
        default=None, sa_column=fk("deal_stages.id", ondelete="SET NULL")
    )
    # Names as they were at the move: the history reads right after a rename or delete.
    from_stage_name: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    to_stage_name: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    moved_by: uuid.UUID | None = Field(default=None, sa_column=fk("users.id", ondelete="SET NULL"))
    moved_at: datetime | None = Field(default=None, sa_column=timestamptz())
    lost_reason: str | None = Field(default=None, sa_column=sa.Column(sa.Text))


class CustomerInteraction(SQLModel, table=True):
    __tablename__ = "customer_interactions"
    __table_args__ = (
        sa.Index("ix_interactions_customer_created", "customer_id", "created_at"),
        sa.Index("ix_interactions_created_at", "created_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=uuid_pk())
    customer_id: uuid.UUID = Field(sa_column=fk("customers.id", ondelete="CASCADE", nullable=False))
    type: InteractionType = Field(
        sa_column=sa.Column(pg_enum(InteractionType, "interaction_type"), nullable=False)
    )
    direction: InteractionDirection = Field(
        sa_column=sa.Column(pg_enum(InteractionDirection, "interaction_direction"), nullable=False)
    )
    notes: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    # RESTRICT: users are deactivated, not deleted, so every entry keeps its author.
    created_by: uuid.UUID = Field(sa_column=fk("users.id", ondelete="RESTRICT", nullable=False))
    created_at: datetime | None = Field(default=None, sa_column=timestamptz())
    # Call disposition (connected, voicemail, ...) where the type is a call.
    outcome: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    estimate_id: uuid.UUID | None = Field(
        default=None, sa_column=fk("estimates.id", ondelete="SET NULL")
    )
    # The email this entry is (sent) or answers (a reply): its delivery shows beside it.
    outbox_id: uuid.UUID | None = Field(
        default=None, sa_column=fk("email_outbox.id", ondelete="SET NULL")
    )


class CustomerStatusChange(SQLModel, table=True):
    """A customer's status changed (lead -> active, ...): who, when, and why, for the timeline."""

    __tablename__ = "customer_status_changes"
    __table_args__ = (
        sa.Index("ix_status_changes_customer_at", "customer_id", "changed_at"),
        # The team's feed on the dashboard: conversions newest first (migration 0011).
        sa.Index("ix_status_changes_changed_at", "changed_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=uuid_pk())
    customer_id: uuid.UUID = Field(sa_column=fk("customers.id", ondelete="CASCADE", nullable=False))
    from_status: CustomerStatus = Field(
        sa_column=sa.Column(pg_enum(CustomerStatus, "customer_status"), nullable=False)
    )
    to_status: CustomerStatus = Field(
        sa_column=sa.Column(pg_enum(CustomerStatus, "customer_status"), nullable=False)
    )
    changed_by: uuid.UUID | None = Field(
        default=None, sa_column=fk("users.id", ondelete="SET NULL")
    )
    changed_at: datetime | None = Field(default=None, sa_column=timestamptz())
    reason: str | None = Field(default=None, sa_column=sa.Column(sa.Text))


class CustomerOptOutChange(SQLModel, table=True):
    """A customer opted out of email, or back in: when, how (`via`: the unsubscribe link or
    staff on the profile) and by whom, for the timeline and the opt-back-in question."""

    __tablename__ = "customer_opt_out_changes"
    __table_args__ = (sa.Index("ix_opt_out_changes_customer_at", "customer_id", "changed_at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=uuid_pk())
    customer_id: uuid.UUID = Field(sa_column=fk("customers.id", ondelete="CASCADE", nullable=False))
    opted_out: bool = Field(sa_column=sa.Column(sa.Boolean, nullable=False))
    via: str | None = Field(default=None, sa_column=sa.Column(sa.Text))  # None: not recorded
    changed_by: uuid.UUID | None = Field(
        default=None, sa_column=fk("users.id", ondelete="SET NULL")
    )
    changed_at: datetime | None = Field(default=None, sa_column=timestamptz())
