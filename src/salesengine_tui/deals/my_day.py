"""My day: what the acting user should do today. Their open tasks due by the end of today
(overdue first: My tasks' first two buckets, `tasks.queries`), and their own rotting deals in
every pipeline; each list short, its total counted by SQL past the few shown."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session

from ..db.models import TaskKind
from ..tasks.due import local_today
from ..tasks.model import Bucket, TaskRow
from ..tasks.queries import my_tasks
from .rotting import days_in_stage_sql, rotting_before_sql, sql_params

DUE_LIMIT = 30


class DueKind(StrEnum):
    task = "task"
    rotting = "rotting"


@dataclass(frozen=True)
class DueItem:
    """Something the acting user should do today: a task due, or a rotting deal."""

    kind: DueKind
    customer_id: uuid.UUID
    customer_name: str
    text: str | None  # the task's title, or the deal's title
    at: datetime | None = None  # when the task is due
    overdue_days: int = 0  # task: calendar days past its day; rotting: days over threshold
    estimate_number: int | None = None
    stage_name: str | None = None
    amount: Decimal | None = None
    # tasks only
    task_id: uuid.UUID | None = None
    task_kind: TaskKind | None = None
    all_day: bool = False
    overdue: bool = False  # an all-day task of an earlier day, a timed one before now
    task: TaskRow | None = None  # as read: what `x` (done) on it must carry

    @property
    def key(self) -> str:
        if self.task_id is not None:
            return f"{self.kind.value}:{self.task_id}"
        return f"{self.kind.value}:{self.customer_id}:{self.estimate_number or ''}"

    @property
    def due_today(self) -> bool:
        """A task due later today (not yet overdue): what the dashboard makes stand out."""
        return self.kind is DueKind.task and not self.overdue


@dataclass(frozen=True)
class Due:
    items: list[DueItem]  # tasks (overdue first, by due time), then rotting deals (most over)
    tasks: int  # how many tasks are due by the end of today (the list may show fewer)
    overdue: int  # of those, how many are overdue
    rotting: int  # how many of my deals are rotting

    @property
    def due_today(self) -> int:
        return self.tasks - self.overdue


_MY_ROTTING = f"""
WITH stages AS MATERIALIZED (
    -- each stage's cut-off computed once, not once per card
    SELECT s.id, s.name, s.rotting_days, {rotting_before_sql("s")} AS rot_before
    FROM deal_stages s
    WHERE s.rotting_days IS NOT NULL AND NOT s.is_won AND NOT s.is_lost
)
SELECT m.customer_id, c.name AS customer_name, m.title, m.number, m.amount, m.stage_name,
       {days_in_stage_sql("m")} - m.rotting_days AS days_over,
       (SELECT count(*) FROM estimates e JOIN stages st ON st.id = e.stage_id
        WHERE e.owner_id = :me AND e.stage_entered_at < st.rot_before) AS total
FROM (
    SELECT e.id, e.customer_id, e.title, e.number, e.amount, e.stage_entered_at,
           st.name AS stage_name, st.rotting_days, st.rot_before - e.stage_entered_at AS over
    FROM estimates e JOIN stages st ON st.id = e.stage_id
    WHERE e.owner_id = :me AND e.stage_entered_at < st.rot_before
    ORDER BY over DESC, e.id
    LIMIT :limit
) m
-- customers' names for the few shown only; the total counts them all
JOIN customers c ON c.id = m.customer_id
ORDER BY m.over DESC, m.id
"""


def _task_item(task: TaskRow, *, overdue: bool, now: datetime, tz: ZoneInfo) -> DueItem:
    days = (local_today(now, tz) - task.due_at.astimezone(tz).date()).days
    return DueItem(
        kind=DueKind.task,
        customer_id=task.customer_id,
        customer_name=task.customer_name,
        text=task.title,
        at=task.due_at,
        overdue_days=max(0, days),
        estimate_number=task.estimate_number,
        task_id=task.id,
        task_kind=task.kind,
        all_day=task.all_day,
        overdue=overdue,
        task=task,
    )


def due_today(
    session: Session,
    user_id: uuid.UUID,
    *,
    now: datetime,
    tz: ZoneInfo,
    limit: int = DUE_LIMIT,
) -> Due:
    """The acting user's open tasks due by the end of today (overdue first) and their
    rotting deals in every pipeline. Totals are counted by SQL past the `limit` shown."""
    mine = my_tasks(
        session,
        now=now,
        tz=tz,
        assignee_id=user_id,
        limit=limit,
        buckets=(Bucket.overdue, Bucket.today),
    )
    # overdue first, then today, at most `limit` in all
    tasks = [_task_item(t, overdue=True, now=now, tz=tz) for t in mine.overdue] + [
        _task_item(t, overdue=False, now=now, tz=tz) for t in mine.today
    ]
    rotting = session.execute(
        sa.text(_MY_ROTTING), {**sql_params(now, tz), "me": user_id, "limit": limit}
    ).all()
    items = tasks[:limit] + [
        DueItem(
            kind=DueKind.rotting,
            customer_id=r.customer_id,
            customer_name=r.customer_name,
            text=r.title,
            overdue_days=r.days_over,
            estimate_number=r.number,
            stage_name=r.stage_name,
            amount=r.amount,
        )
        for r in rotting
    ]
    return Due(
        items=items,
        tasks=mine.due_count,
        overdue=mine.overdue_count,
        rotting=rotting[0].total if rotting else 0,
    )
