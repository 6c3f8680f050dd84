"""Reading tasks: a customer's, a deal's, a person's (My tasks, in buckets counted by SQL),
the last ones done, and the soonest open task as a column for other lists."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session

from ..base.errors import NotFound
from ..db.models import Customer, Estimate, Task, TaskKind, User
from .due import day_start, local_today
from .model import Bucket, MyTasks, TaskRow

__all__ = [
    "MY_TASKS_LIMIT",
    "bucket_sql",
    "done_tasks",
    "get_task",
    "has_open_task_sql",
    "my_tasks",
    "my_tasks_statement",
    "next_task_due_sql",
    "next_task_title_sql",
    "open_tasks",
    "open_tasks_for_user",
]

MY_TASKS_LIMIT = 200

_assignee = aliased(User, name="assignee")
_done_by = aliased(User, name="done_by_user")


def _columns() -> list[Any]:
    return [
        Task.id,
        Task.version,
        Task.kind,
        Task.title,
        Task.notes,
        Task.due_at,
        Task.all_day,
        Task.customer_id,
        Customer.name.label("customer_name"),
        Task.estimate_id,
        Estimate.number.label("estimate_number"),
        Task.assignee_id,
        _assignee.name.label("assignee_name"),
        Task.done_at,
        _done_by.name.label("done_by_name"),
        Customer.phone.label("customer_phone"),
        Customer.phone_ext.label("customer_phone_ext"),
        _assignee.initials.label("assignee_initials"),
        Task.created_by,
    ]


def _joined(stmt: sa.Select[Any]) -> sa.Select[Any]:
    return (
        stmt.select_from(Task)
        .join(Customer, Customer.id == Task.customer_id)
        .outerjoin(Estimate, Estimate.id == Task.estimate_id)
        .outerjoin(_assignee, _assignee.id == Task.assignee_id)
        .outerjoin(_done_by, _done_by.id == Task.done_by)
    )


def _row(r: Any) -> TaskRow:
    return TaskRow(
        id=r.id,
        version=r.version,
        kind=TaskKind(r.kind),
        title=r.title,
        notes=r.notes,
        due_at=r.due_at,
        all_day=r.all_day,
        customer_id=r.customer_id,
        customer_name=r.customer_name,
        estimate_id=r.estimate_id,
        estimate_number=r.estimate_number,
        assignee_id=r.assignee_id,
        assignee_name=r.assignee_name,
        done_at=r.done_at,
        done_by_name=r.done_by_name,
        customer_phone=r.customer_phone,
        customer_phone_ext=r.customer_phone_ext,
        assignee_initials=r.assignee_initials,
        created_by=r.created_by,
    )


def get_task(session: Session, task_id: uuid.UUID) -> TaskRow:
    found = session.execute(_joined(sa.select(*_columns())).where(Task.id == task_id)).first()
    if found is None:
        raise NotFound("that task no longer exists (deleted by someone else)")
    return _row(found)


def open_tasks(
    session: Session,
    *,
    customer_id: uuid.UUID | None = None,
    estimate_id: uuid.UUID | None = None,
    assignee_id: uuid.UUID | None = None,
    unassigned: bool = False,
    limit: int = 50,
) -> list[TaskRow]:
    """Open tasks, the soonest first, narrowed by customer, deal and/or assignee (`unassigned`:
    nobody's). With no filter at all: everyone's (a manager's view)."""
    stmt = _joined(sa.select(*_columns())).where(Task.done_at.is_(None))
    if customer_id is not None:
        stmt = stmt.where(Task.customer_id == customer_id)
    if estimate_id is not None:
        stmt = stmt.where(Task.estimate_id == estimate_id)
    if assignee_id is not None:
        stmt = stmt.where(Task.assignee_id == assignee_id)
    if unassigned:
        stmt = stmt.where(Task.assignee_id.is_(None))
    stmt = stmt.order_by(Task.due_at, Task.id).limit(limit)
    return [_row(r) for r in session.execute(stmt)]


def open_tasks_for_user(
    session: Session, user_id: uuid.UUID, *, limit: int = 1000
) -> list[TaskRow]:
    """A person's open tasks, the soonest first (the calendar export)."""
    return open_tasks(session, assignee_id=user_id, limit=limit)


def done_tasks(
    session: Session,
    *,
    customer_id: uuid.UUID | None = None,
    estimate_id: uuid.UUID | None = None,
    limit: int = 5,
) -> list[TaskRow]:
    """The last tasks done, newest first."""
    stmt = _joined(sa.select(*_columns())).where(Task.done_at.is_not(None))
    if customer_id is not None:
        stmt = stmt.where(Task.customer_id == customer_id)
    if estimate_id is not None:
        stmt = stmt.where(Task.estimate_id == estimate_id)
    stmt = stmt.order_by(Task.done_at.desc(), Task.id).limit(limit)
    return [_row(r) for r in session.execute(stmt)]


def bucket_sql(now: datetime, tz: ZoneInfo) -> sa.ColumnElement[str]:
    """Which of My tasks' sections an open task is in, against the business day: overdue (an
    all-day task of a day before today, a timed task before now), today, upcoming."""
    today = local_today(now, tz)
    start_today = day_start(today, tz)
    start_tomorrow = day_start(today + timedelta(days=1), tz)
    return sa.case(
        (
            sa.or_(
                sa.and_(Task.all_day, Task.due_at < start_today),
                sa.and_(~Task.all_day, Task.due_at < now),
            ),
            sa.literal(Bucket.overdue),
        ),
        (Task.due_at < start_tomorrow, sa.literal(Bucket.today)),
        else_=sa.literal(Bucket.upcoming),
    )


def my_tasks_statement(
    *,
    now: datetime,
    tz: ZoneInfo,
    assignee_id: uuid.UUID | None,
    unassigned: bool = False,
    limit: int = MY_TASKS_LIMIT,
    buckets: Sequence[str] = Bucket.ALL,
) -> sa.Select[Any]:
    """`my_tasks`' one statement: rows with their `bucket`, `bucket_total` and `rank`.
    Buckets not asked for are neither listed nor scanned past the due time they end at."""
    bucket = bucket_sql(now, tz).label("bucket")
    owner = Task.assignee_id.is_(None) if unassigned else Task.assignee_id == assignee_id
    where = [Task.done_at.is_(None), owner]
    if Bucket.upcoming not in buckets:
        # due by the end of today: the index range stops there
        where.append(Task.due_at < day_start(local_today(now, tz) + timedelta(days=1), tz))
    inner = _joined(
        sa.select(
            *_columns(),
            bucket,
            sa.func.count().over(partition_by=bucket).label("bucket_total"),
            sa.func.row_number()
            .over(partition_by=bucket, order_by=(Task.due_at, Task.id))
            .label("rank"),
        )
    ).where(*where)
    ranked = inner.subquery("ranked")
    return (
        sa.select(ranked)
        .where(ranked.c.rank <= limit, ranked.c.bucket.in_(list(buckets)))
        .order_by(ranked.c.due_at, ranked.c.id)
    )


def my_tasks(
    session: Session,
    *,
    now: datetime,
    tz: ZoneInfo,
    assignee_id: uuid.UUID | None,
    unassigned: bool = False,
    limit: int = MY_TASKS_LIMIT,
    buckets: Sequence[str] = Bucket.ALL,
) -> MyTasks:
    """A person's open tasks (`unassigned`: nobody's) in buckets: at most `limit` of each,
    the soonest first, and each bucket's full count, in one statement."""
    rows = session.execute(
        my_tasks_statement(
            now=now,
            tz=tz,
            assignee_id=assignee_id,
            unassigned=unassigned,
            limit=limit,
            buckets=buckets,
        )
    ).all()
    lists: dict[str, list[TaskRow]] = {b: [] for b in Bucket.ALL}
    counts: dict[str, int] = dict.fromkeys(Bucket.ALL, 0)
    for r in rows:
        lists[r.bucket].append(_row(r))
        counts[r.bucket] = r.bucket_total
    return MyTasks(
        overdue=lists[Bucket.overdue],
        today=lists[Bucket.today],
        upcoming=lists[Bucket.upcoming],
        overdue_count=counts[Bucket.overdue],
        today_count=counts[Bucket.today],
        upcoming_count=counts[Bucket.upcoming],
    )


def _open_of(customer_id_col: sa.ColumnElement[uuid.UUID]) -> sa.ColumnElement[bool]:
    return sa.and_(Task.customer_id == customer_id_col, Task.done_at.is_(None))


def next_task_due_sql(customer_id_col: sa.ColumnElement[uuid.UUID]) -> sa.ColumnElement[datetime]:
    """The soonest open task's due_at for the customer in `customer_id_col` (NULL: none), as
    a scalar subquery for other lists ("next step due"; ix_tasks_open_customer answers it)."""
    return (
        sa.select(sa.func.min(Task.due_at))
        .where(_open_of(customer_id_col))
        .correlate_except(Task)
        .scalar_subquery()
    )


def next_task_title_sql(customer_id_col: sa.ColumnElement[uuid.UUID]) -> sa.ColumnElement[str]:
    """The soonest open task's title (NULL: none), beside `next_task_due_sql`."""
    return (
        sa.select(Task.title)
        .where(_open_of(customer_id_col))
        .order_by(Task.due_at, Task.id)
        .limit(1)
        .correlate_except(Task)
        .scalar_subquery()
    )


def has_open_task_sql(customer_id_col: sa.ColumnElement[uuid.UUID]) -> sa.ColumnElement[bool]:
    """Whether the customer has an open task ("has a next step")."""
    return sa.select(Task.id).where(_open_of(customer_id_col)).correlate_except(Task).exists()
