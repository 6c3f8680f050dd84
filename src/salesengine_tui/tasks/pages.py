"""My tasks as a screen pages it: whose tasks (a person's, nobody's, everyone's), each
bucket's count in one statement, and a bucket read a block at a time (by keyset after a task
already shown, by offset for a jump). The buckets are `queries.bucket_sql`'s: one rule."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session

from ..base.errors import UserError
from ..db.models import Task
from .due import day_start, local_today
from .model import Bucket, TaskRow
from .queries import _columns, _joined, _row, bucket_sql

__all__ = ["Whose", "bucket_counts", "bucket_of", "bucket_page"]


def bucket_of(task: TaskRow, now: datetime, tz: ZoneInfo) -> str:
    """`queries.bucket_sql`'s rule for one task already read (a profile, Quick Call): overdue
    (an all-day task of a day before today, a timed task before now), today, upcoming."""
    today = local_today(now, tz)
    if task.due_at < (day_start(today, tz) if task.all_day else now):
        return Bucket.overdue
    if task.due_at < day_start(today + timedelta(days=1), tz):
        return Bucket.today
    return Bucket.upcoming


@dataclass(frozen=True)
class Whose:
    """Whose open tasks a list shows: one person's (`assignee_id`), nobody's (`unassigned`),
    or, with neither, everyone's (a manager's view)."""

    assignee_id: uuid.UUID | None = None
    unassigned: bool = False

    def __post_init__(self) -> None:
        if self.unassigned and self.assignee_id is not None:
            raise UserError("a task list is someone's or nobody's, not both")

    @property
    def everyone(self) -> bool:
        return self.assignee_id is None and not self.unassigned

    def sql(self) -> sa.ColumnElement[bool]:
        if self.unassigned:
            return Task.assignee_id.is_(None)
        if self.assignee_id is not None:
            return Task.assignee_id == self.assignee_id
        return sa.true()


def bucket_counts(session: Session, whose: Whose, *, now: datetime, tz: ZoneInfo) -> dict[str, int]:
    """How many open tasks each bucket holds (every bucket named, 0 when empty)."""
    bucket = bucket_sql(now, tz).label("bucket")
    rows = session.execute(
        sa.select(bucket, sa.func.count())
        .select_from(Task)
        .where(Task.done_at.is_(None), whose.sql())
        .group_by(bucket)
    ).all()
    counts = dict.fromkeys(Bucket.ALL, 0)
    counts.update({r[0]: int(r[1]) for r in rows})
    return counts


def bucket_page(
    session: Session,
    whose: Whose,
    bucket: str,
    *,
    now: datetime,
    tz: ZoneInfo,
    limit: int,
    offset: int = 0,
    after: tuple[datetime, uuid.UUID] | None = None,
) -> list[TaskRow]:
    """Up to `limit` open tasks of `bucket`, the soonest first (due, then id): after the task
    whose (due_at, id) is `after`, else from position `offset`."""
    if bucket not in Bucket.ALL:
        raise UserError(f"unknown task bucket {bucket!r}")
    stmt = _joined(sa.select(*_columns())).where(
        Task.done_at.is_(None), whose.sql(), bucket_sql(now, tz) == bucket
    )
    if after is not None:
        stmt = stmt.where(sa.tuple_(Task.due_at, Task.id) > sa.tuple_(*after))
    elif offset:
        stmt = stmt.offset(offset)
    stmt = stmt.order_by(Task.due_at, Task.id).limit(limit)
    return [_row(r) for r in session.execute(stmt)]
