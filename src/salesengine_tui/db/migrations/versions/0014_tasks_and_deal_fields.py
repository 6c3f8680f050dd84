"""The daily workflow: tasks (instead of a customer's one next-step date), a deal's expected
close date and an "estimated" mark on its value, the history of edits to a deal, and named marks
the automations keep (the upsell watermark).

Every customer's next step becomes an open task: its text the title ("Follow up" when there was
only a date), due when the step was (old steps were set for 9:00 business time, so they stay
timed), assigned to the customer's owner, a call for leads and a to-do otherwise. Steps already
due are marked as reminded, so switching the reminders on does not announce history. The old
columns stay until revision 0016, which drops them once nothing reads them.

Revision ID: 0014_tasks_and_deal_fields
Revises: 0013_segment_owner
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014_tasks_and_deal_fields"
down_revision: str | None = "0013_segment_owner"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TASK_KIND = postgresql.ENUM(
    "call", "email", "meeting", "site_visit", "todo", name="task_kind", create_type=False
)


def _uuid_fk(name: str, target: str, ondelete: str, *, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.Uuid, sa.ForeignKey(target, ondelete=ondelete), nullable=nullable)


def _now(name: str, *, nullable: bool = False, default: bool = True) -> sa.Column:
    return sa.Column(
        name,
        sa.DateTime(timezone=True),
        nullable=nullable,
        server_default=sa.func.now() if default else None,
    )


def upgrade() -> None:
    op.add_column("estimates", sa.Column("expected_close_on", sa.Date))
    op.add_column(
        "estimates",
        sa.Column("amount_estimated", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_index(
        "ix_estimates_expected_close",
        "estimates",
        ["expected_close_on"],
        postgresql_where=sa.text("expected_close_on IS NOT NULL"),
    )

    TASK_KIND.create(op.get_bind())
    op.create_table(
        "tasks",
        sa.Column("id", sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")),
        _uuid_fk("customer_id", "customers.id", "CASCADE", nullable=False),
        _uuid_fk("estimate_id", "estimates.id", "SET NULL"),
        sa.Column("kind", TASK_KIND, nullable=False, server_default="todo"),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("notes", sa.Text),
        _now("due_at", default=False),
        sa.Column("all_day", sa.Boolean, nullable=False, server_default=sa.true()),
        _uuid_fk("assignee_id", "users.id", "SET NULL"),
        _uuid_fk("created_by", "users.id", "SET NULL"),
        _now("created_at"),
        _now("done_at", nullable=True, default=False),
        _uuid_fk("done_by", "users.id", "SET NULL"),
        _now("reminded_at", nullable=True, default=False),
        _now("updated_at"),
        _uuid_fk("updated_by", "users.id", "SET NULL"),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.CheckConstraint("length(btrim(title)) > 0", name="title_not_blank"),
        sa.CheckConstraint("version >= 1", name="version_positive"),
        sa.CheckConstraint("done_by IS NULL OR done_at IS NOT NULL", name="done_by_when_done"),
    )
    op.create_index(
        "ix_tasks_open_assignee",
        "tasks",
        ["assignee_id", "due_at"],
        postgresql_where=sa.text("done_at IS NULL"),
    )
    op.create_index(
        "ix_tasks_open_customer",
        "tasks",
        ["customer_id", "due_at"],
        postgresql_where=sa.text("done_at IS NULL"),
    )
    op.create_index(
        "ix_tasks_reminders",
        "tasks",
        ["due_at"],
        postgresql_where=sa.text("done_at IS NULL AND NOT all_day AND reminded_at IS NULL"),
    )
    op.create_index(
        "ix_tasks_estimate",
        "tasks",
        ["estimate_id"],
        postgresql_where=sa.text("estimate_id IS NOT NULL"),
    )
    op.create_index("ix_tasks_customer_done", "tasks", ["customer_id", "done_at"])

    op.create_table(
        "estimate_changes",
        sa.Column("id", sa.Uuid, primary_key=True, server_default=sa.text("gen_random_uuid()")),
        _uuid_fk("estimate_id", "estimates.id", "CASCADE", nullable=False),
        _uuid_fk("customer_id", "customers.id", "CASCADE", nullable=False),
        sa.Column("field", sa.Text, nullable=False),
        sa.Column("old_value", sa.Text),
        sa.Column("new_value", sa.Text),
        _uuid_fk("changed_by", "users.id", "SET NULL"),
        _now("changed_at"),
    )
    op.create_index(
        "ix_estimate_changes_estimate_at", "estimate_changes", ["estimate_id", "changed_at"]
    )
    op.create_index(
        "ix_estimate_changes_customer_at", "estimate_changes", ["customer_id", "changed_at"]
    )

    op.create_table(
        "automation_marks",
        sa.Column("name", sa.Text, primary_key=True),
        _now("at", default=False),
        _now("set_at"),
    )

    # Every next step becomes an open task (see the module's docstring).
    op.execute(
        """
        INSERT INTO tasks (customer_id, kind, title, due_at, all_day, assignee_id, created_by,
                           updated_by, reminded_at)
        SELECT c.id,
               CASE WHEN c.status = 'lead' THEN 'call' ELSE 'todo' END::task_kind,
               coalesce(nullif(btrim(c.next_step), ''), 'Follow up'),
               coalesce(c.next_step_at, now()),
               false,
               c.owner_id,
               c.owner_id,
               c.owner_id,
               CASE WHEN coalesce(c.next_step_at, now()) <= now() THEN now() END
        FROM customers c
        WHERE c.next_step_at IS NOT NULL OR nullif(btrim(c.next_step), '') IS NOT NULL
        """
    )


def downgrade() -> None:
    # The soonest open task of each customer goes back to being its next step.
    op.execute(
        """
        UPDATE customers c SET next_step = t.title, next_step_at = t.due_at
        FROM (SELECT DISTINCT ON (customer_id) customer_id, title, due_at FROM tasks
              WHERE done_at IS NULL ORDER BY customer_id, due_at) t
        WHERE t.customer_id = c.id
        """
    )
    op.drop_table("automation_marks")
    op.drop_table("estimate_changes")
    op.drop_table("tasks")
    TASK_KIND.drop(op.get_bind())
    op.drop_index("ix_estimates_expected_close", table_name="estimates")
    op.drop_column("estimates", "amount_estimated")
    op.drop_column("estimates", "expected_close_on")
