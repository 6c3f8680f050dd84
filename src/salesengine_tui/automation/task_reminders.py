"""Reminders: when a timed task falls due, its assignee gets a notification (a toast in an
open app, by the notifications table's NOTIFY trigger), exactly once.

One statement in the caller's transaction: it takes the timed open tasks due by now and not
yet announced (`ix_tasks_reminders`), locking them with FOR UPDATE SKIP LOCKED, so a second
runner at the same moment takes none of the same rows and goes on; it marks them reminded and
inserts one notification per task with the dedupe key `task-due:<task id>@<due time>`
(unique: even a runner that somehow saw the same task again cannot notify twice for the same
due time; a task moved to another time is a new reminder). Marking does not bump the task's
version: the reminder is not a change a person holding the task must re-read.

All-day tasks get no reminder of their own: they are due all day, and My tasks and the
dashboard's "my day" already list them at the top each morning. A task nobody is assigned
is marked reminded without a notification (no one to tell). A task that fell due long before
the runner saw it (the runner was down) is announced as overdue rather than "due now".
Rescheduling a task clears its mark (`tasks.editing`), so it reminds again at the new time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session

from ..tasks.model import KIND_LABELS

KIND = "task_due"
DEDUPE_PREFIX = "task-due:"
BATCH = 5_000  # per run; the next run (a minute later) takes the rest
LATE_AFTER = "15 minutes"  # fell due longer ago than this: "overdue", not "due now"

# "Call", "Site visit", "To-do": the task kinds as a notification's first word.
_KIND_WORD = (
    "CASE due.kind::text "
    + " ".join(f"WHEN '{k.value}' THEN '{label.capitalize()}'" for k, label in KIND_LABELS.items())
    + " END"
)

_REMIND = f"""
WITH due AS (
    SELECT t.id, t.customer_id, t.estimate_id, t.assignee_id, t.kind, t.title, t.due_at
    FROM tasks t
    WHERE t.done_at IS NULL AND NOT t.all_day AND t.reminded_at IS NULL AND t.due_at <= :now
    ORDER BY t.due_at
    LIMIT :batch
    FOR UPDATE OF t SKIP LOCKED
), marked AS (
    UPDATE tasks t SET reminded_at = :now FROM due WHERE t.id = due.id RETURNING t.id
), sent AS (
    INSERT INTO notifications (user_id, kind, title, body, customer_id, estimate_id,
                               dedupe_key, created_at)
    SELECT due.assignee_id, :kind,
           {_KIND_WORD}
               || CASE WHEN due.due_at >= CAST(:now AS timestamptz) - interval '{LATE_AFTER}'
                       THEN ' due now: ' ELSE ' overdue: ' END
               || c.name,
           due.title || ' (due '
               || to_char(due.due_at AT TIME ZONE CAST(:tz AS text), 'YYYY-MM-DD HH24:MI')
               || ')',
           due.customer_id, due.estimate_id,
           :prefix || due.id::text || '@' || extract(epoch FROM due.due_at)::bigint::text, :now
    FROM due JOIN customers c ON c.id = due.customer_id
    WHERE due.assignee_id IS NOT NULL
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING 1
)
SELECT (SELECT count(*) FROM marked) AS marked, (SELECT count(*) FROM sent) AS sent
"""


@dataclass(frozen=True)
class Report:
    reminded: int  # tasks marked as announced
    notifications: int  # notifications written (unassigned tasks have none)


def remind(session: Session, *, now: datetime, tz: ZoneInfo) -> Report:
    """Announce every timed open task due by `now` that was not yet (see the module's
    docstring), in the caller's transaction."""
    row = session.execute(
        sa.text(_REMIND),
        {
            "now": now,
            "tz": tz.key,
            "batch": BATCH,
            "kind": KIND,
            "prefix": DEDUPE_PREFIX,
        },
    ).one()
    return Report(reminded=row.marked, notifications=row.sent)
