"""Changing tasks: create, complete (and reopen: undo a completion), edit or reschedule,
reassign, delete.

Who may is `rules`'s (reps their own and unassigned tasks, managers every task). Every change
to an existing task carries the version its writer saw (optimistic lock): when someone else
changed it first, nothing is written and TaskConflict says what happened. Deleting is for a
task's creator or a manager, and only while it is open: a done task is the customer's history.
Reopening a done task (a completion undone) is for whoever completed it or a manager. Changing
when a task is due re-arms its reminder.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session

from ..access import permissions
from ..access.users import Actor
from ..base.errors import NotFound, PermissionDenied, UserError
from ..db.models import Customer, Estimate, Task, TaskKind, User
from .due import parse_due
from .live import notify_tasks
from .model import TaskDraft
from .rules import (
    TaskAlreadyDone,
    TaskConflict,
    check_due,
    clean_kind,
    clean_notes,
    clean_title,
    done_message,
    require_assignee,
    require_task,
    user_name,
)

__all__ = [  # the rules (`rules`) come from there; these are the changes
    "TaskAlreadyDone",
    "TaskConflict",
    "complete_task",
    "create_from_draft",
    "create_task",
    "delete_task",
    "edit_task",
    "reassign_task",
    "reopen_task",
    "reschedule_task",
]


# --- create --------------------------------------------------------------------------------


def create_task(
    session: Session,
    actor: Actor,
    *,
    customer_id: uuid.UUID,
    kind: TaskKind | str,
    title: str,
    due_at: datetime,
    all_day: bool,
    assignee_id: uuid.UUID | None,
    now: datetime,
    estimate_id: uuid.UUID | None = None,
    notes: str | None = None,
) -> uuid.UUID:
    """A new open task for a customer (and one of its deals), validated here; returns its id."""
    task_kind = clean_kind(kind)
    clean = clean_title(title)
    text = clean_notes(notes)
    check_due(due_at, now)
    if session.get(Customer, customer_id) is None:
        raise NotFound("that customer no longer exists")
    if estimate_id is not None:
        owner = session.execute(
            sa.select(Estimate.customer_id).where(Estimate.id == estimate_id)
        ).scalar_one_or_none()
        if owner is None:
            raise NotFound("that deal no longer exists")
        if owner != customer_id:
            raise UserError("a task's deal must be one of its customer's deals")
    require_assignee(session, actor, assignee_id)
    task = Task(
        customer_id=customer_id,
        estimate_id=estimate_id,
        kind=task_kind,
        title=clean,
        notes=text,
        due_at=due_at,
        all_day=all_day,
        assignee_id=assignee_id,
        created_by=actor.id,
        created_at=now,
        updated_at=now,
        updated_by=actor.id,
    )
    session.add(task)
    session.flush()
    notify_tasks(session, customer_id)
    return task.id


def draft_assignee(actor: Actor, draft: TaskDraft) -> uuid.UUID | None:
    if draft.unassigned:
        return None
    return draft.assignee_id or actor.id


def create_from_draft(
    session: Session,
    actor: Actor,
    customer_id: uuid.UUID,
    draft: TaskDraft,
    *,
    now: datetime,
    tz: ZoneInfo,
) -> uuid.UUID:
    """`create_task` for what a person typed (the due as text, read by `parse_due`)."""
    due_at, all_day = parse_due(draft.due, now, tz)
    return create_task(
        session,
        actor,
        customer_id=customer_id,
        kind=draft.kind,
        title=draft.title,
        due_at=due_at,
        all_day=all_day,
        assignee_id=draft_assignee(actor, draft),
        now=now,
        estimate_id=draft.estimate_id,
        notes=draft.notes,
    )


# --- changes to a task ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Current:
    customer_id: uuid.UUID
    assignee_id: uuid.UUID | None
    created_by: uuid.UUID | None
    version: int
    done_at: datetime | None
    done_by_name: str | None
    title: str
    updated_by_name: str | None
    done_by: uuid.UUID | None


_UPDATER = aliased(User, name="updater")


def _current(session: Session, task_id: uuid.UUID, *, lock: bool = False) -> _Current:
    stmt = (
        sa.select(
            Task.customer_id,
            Task.assignee_id,
            Task.created_by,
            Task.version,
            Task.done_at,
            User.name,
            Task.title,
            _UPDATER.name,
            Task.done_by,
        )
        .outerjoin(User, User.id == Task.done_by)
        .outerjoin(_UPDATER, _UPDATER.id == Task.updated_by)
        .where(Task.id == task_id)
    )
    if lock:
        stmt = stmt.with_for_update(of=Task)
    row = session.execute(stmt).first()
    if row is None:
        raise NotFound("that task no longer exists (deleted by someone else)")
    return _Current(*row)


def _check_version(current: _Current, expected_version: int, now: datetime | None = None) -> None:
    if current.done_at is not None:
        raise TaskAlreadyDone(done_message(current.done_by_name, current.done_at, now))
    if current.version != expected_version:
        who = current.updated_by_name or "someone else"
        raise TaskConflict(
            f"{who} changed this task after you opened it (its due time, title or assignee); "
            "nothing was overwritten: look at it again"
        )


def _update(
    session: Session,
    actor: Actor,
    task_id: uuid.UUID,
    *,
    expected_version: int,
    now: datetime,
    values: dict[str, Any],
    allow_other: bool = False,
) -> _Current:
    """The common path of every change to an open task: lock the row, check who may and the
    version, write `values` with a new version. Returns the task as it was."""
    current = _current(session, task_id, lock=True)
    if not allow_other:
        require_task(session, actor, current.assignee_id)
    _check_version(current, expected_version, now)
    session.execute(
        sa.update(Task)
        .where(Task.id == task_id)
        .values(**values, updated_at=now, updated_by=actor.id, version=Task.version + 1)
    )
    notify_tasks(session, current.customer_id)
    return current


def complete_task(
    session: Session,
    actor: Actor,
    task_id: uuid.UUID,
    *,
    expected_version: int,
    now: datetime,
) -> int:
    """Mark a task done (by `actor`, at `now`); returns its new version (what an undo,
    `reopen_task`, expects). Done twice, or changed since it was read: nothing is written and
    the message says so."""
    current = _update(
        session,
        actor,
        task_id,
        expected_version=expected_version,
        now=now,
        values={"done_at": now, "done_by": actor.id},
    )
    return current.version + 1


def reopen_task(
    session: Session,
    actor: Actor,
    task_id: uuid.UUID,
    *,
    expected_version: int,
    now: datetime,
) -> None:
    """Undo a completion: the task is open again (done_at and done_by cleared), due when it
    was. Only while it is done, by whoever completed it or a manager, and only under the
    version the caller saw (the one `complete_task` returned): when someone reopened it,
    or reopened and completed it again, nothing is written and the message says who."""
    current = _current(session, task_id, lock=True)
    if current.done_at is None:
        who = current.updated_by_name or "someone else"
        raise TaskConflict(f"this task is open, not done (last changed by {who}); nothing to undo")
    manager = permissions.allowed(actor, permissions.Action.reassign)
    if not manager and current.done_by != actor.id:
        who = current.done_by_name or "someone else"
        raise PermissionDenied(
            f"{who} completed this task: only whoever completed it, or a manager, may reopen it"
        )
    if current.version != expected_version:
        who = current.updated_by_name or "someone else"
        raise TaskConflict(
            f"{who} changed this task after you completed it; nothing was overwritten: look at "
            "it again"
        )
    session.execute(
        sa.update(Task)
        .where(Task.id == task_id)
        .values(
            done_at=None,
            done_by=None,
            updated_at=now,
            updated_by=actor.id,
            version=Task.version + 1,
        )
    )
    notify_tasks(session, current.customer_id)


_UNSET: Any = object()


def edit_task(
    session: Session,
    actor: Actor,
    task_id: uuid.UUID,
    *,
    expected_version: int,
    now: datetime,
    kind: TaskKind | str = _UNSET,
    title: str = _UNSET,
    notes: str | None = _UNSET,
    due: tuple[datetime, bool] = _UNSET,
) -> None:
    """Change what is given of an open task (kind, title, notes, (due_at, all_day)). A new due
    time re-arms the reminder (the runner tells the assignee again when it falls due)."""
    values: dict[str, Any] = {}
    if kind is not _UNSET:
        values["kind"] = clean_kind(kind)
    if title is not _UNSET:
        values["title"] = clean_title(title)
    if notes is not _UNSET:
        values["notes"] = clean_notes(notes)
    if due is not _UNSET:
        due_at, all_day = due
        check_due(due_at, now)
        values.update(due_at=due_at, all_day=all_day, reminded_at=None)
    if not values:
        return
    _update(session, actor, task_id, expected_version=expected_version, now=now, values=values)


def reschedule_task(
    session: Session,
    actor: Actor,
    task_id: uuid.UUID,
    *,
    expected_version: int,
    due_at: datetime,
    all_day: bool,
    now: datetime,
) -> None:
    edit_task(
        session,
        actor,
        task_id,
        expected_version=expected_version,
        now=now,
        due=(due_at, all_day),
    )


def reassign_task(
    session: Session,
    actor: Actor,
    task_id: uuid.UUID,
    assignee_id: uuid.UUID | None,
    *,
    expected_version: int,
    now: datetime,
) -> str:
    """Give an open task to someone (None: nobody). Managers give any task to anyone; a rep
    takes an unassigned task for themselves, or gives their own back (unassigns it).
    Returns the new assignee's name (or "nobody")."""
    current = _current(session, task_id)
    is_manager = permissions.allowed(actor, permissions.Action.reassign)
    if not is_manager:
        takes = assignee_id == actor.id and current.assignee_id in (None, actor.id)
        gives_back = assignee_id is None and current.assignee_id == actor.id
        if not (takes or gives_back):
            raise PermissionDenied(
                "only managers may reassign tasks; a rep can take an unassigned task for "
                "themselves or give their own back"
            )
    require_assignee(session, actor, assignee_id)
    _update(
        session,
        actor,
        task_id,
        expected_version=expected_version,
        now=now,
        values={"assignee_id": assignee_id},
        allow_other=True,
    )
    return "nobody" if assignee_id is None else user_name(session, assignee_id)


def delete_task(
    session: Session, actor: Actor, task_id: uuid.UUID, *, expected_version: int
) -> None:
    """Delete an open task created by mistake: its creator or a manager. A done task stays
    (it is the customer's history); to drop a plan, complete it or reschedule it."""
    current = _current(session, task_id, lock=True)
    if not (
        permissions.allowed(actor, permissions.Action.reassign) or current.created_by == actor.id
    ):
        raise PermissionDenied(
            "only whoever created a task, or a manager, may delete it; complete it instead"
        )
    _check_version(current, expected_version)
    session.execute(sa.delete(Task).where(Task.id == task_id))
    notify_tasks(session, current.customer_id)
