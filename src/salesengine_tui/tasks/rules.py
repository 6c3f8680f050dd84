"""What every change to a task checks: its text, its kind, its due time, and who may work it
(reps their own and unassigned tasks, managers every task); and how a task is named in
messages. `editing` applies these rules."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session

from ..access import permissions
from ..access.users import Actor
from ..base import validation
from ..base.errors import PermissionDenied, UserError
from ..db.models import TaskKind, User, UserRole
from .model import NOTES_MAX, TITLE_MAX, kind_label


class TaskConflict(UserError):
    """The task changed since the caller read it; nothing was written."""


class TaskAlreadyDone(TaskConflict):
    """Someone completed the task already."""


# --- validation --------------------------------------------------------------------------


def clean_title(value: str | None) -> str:
    return validation.require_text(value, "task title", max_len=TITLE_MAX)


def clean_notes(value: str | None) -> str | None:
    return validation.multi_line_text(value, "task notes", max_len=NOTES_MAX)


def clean_kind(value: TaskKind | str) -> TaskKind:
    try:
        return TaskKind(value)
    except ValueError:
        kinds = ", ".join(k.value for k in TaskKind)
        raise UserError(f"unknown task kind {value!r}; one of: {kinds}") from None


def check_due(due_at: datetime, now: datetime) -> None:
    if due_at.tzinfo is None:
        raise UserError("a due time needs a time zone")
    # `parse_due` refuses days before today in the business time zone; this is the guard
    # for callers that pass a time directly (today's start is at most a day ago).
    if due_at < now - timedelta(days=1):
        raise UserError("that due date is in the past")


# --- who may -----------------------------------------------------------------------------


def user_name(session: Session, user_id: uuid.UUID) -> str:
    name = session.execute(sa.select(User.name).where(User.id == user_id)).scalar_one_or_none()
    return name or "someone else"


def require_task(session: Session, actor: Actor, assignee_id: uuid.UUID | None) -> None:
    """Reps work their own and unassigned tasks; managers every task."""
    if permissions.allowed(actor, permissions.Action.reassign) or assignee_id in (None, actor.id):
        return
    raise PermissionDenied(
        f"this task is {user_name(session, assignee_id)}'s: a rep works their own and unassigned "
        "tasks (a manager can reassign it)"
    )


def require_assignee(session: Session, actor: Actor, assignee_id: uuid.UUID | None) -> None:
    """Whom a new (or reassigned) task may go to: an active rep or manager; a rep gives tasks
    only to themselves or to nobody."""
    if assignee_id is None:
        return
    user = session.get(User, assignee_id)
    if user is None or not user.active or user.role not in (UserRole.rep, UserRole.manager):
        raise UserError("tasks can be assigned to active reps and managers only")
    if assignee_id != actor.id and not permissions.allowed(actor, permissions.Action.reassign):
        raise PermissionDenied(
            f"only managers may give tasks to someone else; {actor.name} ({actor.login}) is a "
            f"{actor.role.value} and assigns tasks to themselves or to nobody"
        )


def describe(kind: TaskKind | str, title: str) -> str:
    """ "call: Follow up on quote" for messages and the timeline."""
    return f"{kind_label(kind)}: {title}"


def done_message(done_by: str | None, done_at: datetime | None, now: datetime | None) -> str:
    """Who completed a task and how long ago: a span needs no time zone (a person reads
    times in the business's zone only, and this rule has none to hand)."""
    when = ""
    if done_at is not None and now is not None:
        minutes = max(0, int((now - done_at).total_seconds() // 60))
        if minutes < 1:
            when = " (just now)"
        elif minutes < 60:
            when = f" ({minutes} min ago)"
        elif minutes < 48 * 60:
            when = f" ({minutes // 60} h ago)"
        else:
            when = f" ({minutes // 1440} days ago)"
    who = done_by or "someone"
    return f"{who} already completed this task{when}; it cannot be completed twice"
