"""The daily workflow (revision 0014): tasks, a deal's change history, automation marks."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .columns import fk, timestamptz, uuid_pk
from .enums import TaskKind, pg_enum


class Task(SQLModel, table=True):
    """Something a person will do for a customer (and maybe one of its deals), by a due time.

    `due_at` is always set: for an all-day task it is the start of its day in the business time
    zone, so one column orders every list; `all_day` says whether the time means anything."""

    __tablename__ = "tasks"
    __table_args__ = (
        sa.CheckConstraint("length(btrim(title)) > 0", name="title_not_blank"),
        sa.CheckConstraint("version >= 1", name="version_positive"),
        sa.CheckConstraint("done_by IS NULL OR done_at IS NOT NULL", name="done_by_when_done"),
        # My tasks: a person's open tasks by due time.
        sa.Index(
            "ix_tasks_open_assignee",
            "assignee_id",
            "due_at",
            postgresql_where=sa.text("done_at IS NULL"),
        ),
        # A customer's (and a card's) open tasks, the soonest first.
        sa.Index(
            "ix_tasks_open_customer",
            "customer_id",
            "due_at",
            postgresql_where=sa.text("done_at IS NULL"),
        ),
        # The runner's reminders: timed tasks that fell due and were not yet announced.
        sa.Index(
            "ix_tasks_reminders",
            "due_at",
            postgresql_where=sa.text("done_at IS NULL AND NOT all_day AND reminded_at IS NULL"),
        ),
        sa.Index(
            "ix_tasks_estimate", "estimate_id", postgresql_where=sa.text("estimate_id IS NOT NULL")
        ),
        # The customer's timeline: tasks done, newest first.
        sa.Index("ix_tasks_customer_done", "customer_id", "done_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=uuid_pk())
    customer_id: uuid.UUID = Field(sa_column=fk("customers.id", ondelete="CASCADE", nullable=False))
    estimate_id: uuid.UUID | None = Field(
        default=None, sa_column=fk("estimates.id", ondelete="SET NULL")
    )
    kind: TaskKind = Field(
        default=TaskKind.todo,
        sa_column=sa.Column(
            pg_enum(TaskKind, "task_kind"), nullable=False, server_default=TaskKind.todo.value
        ),
    )
    title: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    notes: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    due_at: datetime = Field(sa_column=timestamptz(now_default=False))
    all_day: bool = Field(
        default=True, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.true())
    )
    # None: nobody's yet (a manager's "unassigned" list).
    assignee_id: uuid.UUID | None = Field(
        default=None, sa_column=fk("users.id", ondelete="SET NULL")
    )
    created_by: uuid.UUID | None = Field(
        default=None, sa_column=fk("users.id", ondelete="SET NULL")
    )
    created_at: datetime | None = Field(default=None, sa_column=timestamptz())
    done_at: datetime | None = Field(
        default=None, sa_column=timestamptz(nullable=True, now_default=False)
    )
    done_by: uuid.UUID | None = Field(default=None, sa_column=fk("users.id", ondelete="SET NULL"))
    # When the runner told the assignee that this timed task fell due (once).
    reminded_at: datetime | None = Field(
        default=None, sa_column=timestamptz(nullable=True, now_default=False)
    )
    updated_at: datetime | None = Field(default=None, sa_column=timestamptz())
    # Who made the last change: named to whoever loses an optimistic-lock race.
    updated_by: uuid.UUID | None = Field(
        default=None, sa_column=fk("users.id", ondelete="SET NULL")
    )
    version: int = Field(
        default=1, sa_column=sa.Column(sa.Integer, nullable=False, server_default="1")
    )


class EstimateChange(SQLModel, table=True):
    """One field of a deal changed by a person (title, value, close date, owner): the deal's
    history and the customer's timeline. Values are stored as text, as they were shown."""

    __tablename__ = "estimate_changes"
    __table_args__ = (
        sa.Index("ix_estimate_changes_estimate_at", "estimate_id", "changed_at"),
        sa.Index("ix_estimate_changes_customer_at", "customer_id", "changed_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, sa_column=uuid_pk())
    estimate_id: uuid.UUID = Field(sa_column=fk("estimates.id", ondelete="CASCADE", nullable=False))
    customer_id: uuid.UUID = Field(sa_column=fk("customers.id", ondelete="CASCADE", nullable=False))
    field: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    old_value: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    new_value: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    changed_by: uuid.UUID | None = Field(
        default=None, sa_column=fk("users.id", ondelete="SET NULL")
    )
    changed_at: datetime | None = Field(default=None, sa_column=timestamptz())


class AutomationMark(SQLModel, table=True):
    """A named point in time an automation keeps between runs (the upsell watermark: tickets
    closed before it are history). Set once by the first run; changed only on purpose."""

    __tablename__ = "automation_marks"

    name: str = Field(sa_column=sa.Column(sa.Text, primary_key=True))
    at: datetime = Field(sa_column=timestamptz(now_default=False))
    set_at: datetime | None = Field(default=None, sa_column=timestamptz())
