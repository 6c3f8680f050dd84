"""What a logged call does to the tasks by default: the task it completes when none was named,
and the next task each outcome suggests. Pure rules; no Textual, no database."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from .due import day_start, local_today
from .model import TaskKind, TaskRow

# The next task each outcome suggests (title, due as typed); an empty due: none.
NEXT_BY_OUTCOME: dict[str, tuple[str, str]] = {
    "connected": ("Follow up", "+2"),
    "voicemail": ("Call back", "+2"),
    "no_answer": ("Call back", "+1"),
    "wrong_number": ("", ""),
    "not_interested": ("", ""),
}
FIRST_NEXT = ("Call back", "+2")  # before an outcome is picked


def next_for_outcome(outcome: str) -> tuple[str, str]:
    """The next task (title, due as typed) an outcome suggests; FIRST_NEXT for an unknown one."""
    return NEXT_BY_OUTCOME.get(outcome, FIRST_NEXT)


def default_task(tasks: list[TaskRow], now: datetime, tz: ZoneInfo) -> TaskRow | None:
    """The task a call from a list is for when none was named: the soonest open call due by
    the end of today (the one the rep is making); else none."""
    end_of_today = day_start(local_today(now, tz) + timedelta(days=1), tz)
    return next((t for t in tasks if t.kind == TaskKind.call and t.due_at < end_of_today), None)
