"""What a task looks like to the rest of the program: rows read back, drafts typed in."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from ..db.models import TaskKind

__all__ = [
    "KIND_LABELS",
    "NOTES_MAX",
    "TITLE_MAX",
    "Bucket",
    "MyTasks",
    "TaskDraft",
    "TaskKind",
    "TaskRow",
    "kind_label",
]

TITLE_MAX = 200
NOTES_MAX = 2000

# How people read the kinds, in the order a form offers them.
KIND_LABELS: dict[TaskKind, str] = {
    TaskKind.call: "call",
    TaskKind.email: "email",
    TaskKind.meeting: "meeting",
    TaskKind.site_visit: "site visit",
    TaskKind.todo: "to-do",
}


def kind_label(kind: TaskKind | str) -> str:
    return KIND_LABELS.get(TaskKind(kind), str(kind))


@dataclass(frozen=True)
class TaskRow:
    """One task as lists show it. `version` is what a change must carry (optimistic lock)."""

    id: uuid.UUID
    version: int
    kind: TaskKind
    title: str
    notes: str | None
    due_at: datetime  # all-day: the start of its day in the business time zone
    all_day: bool
    customer_id: uuid.UUID
    customer_name: str
    estimate_id: uuid.UUID | None
    estimate_number: int | None
    assignee_id: uuid.UUID | None
    assignee_name: str | None
    done_at: datetime | None
    done_by_name: str | None
    # Extras (defaults, so the fields above stay the stable API).
    customer_phone: str | None = None  # E.164
    customer_phone_ext: str | None = None
    assignee_initials: str | None = None  # unique on the desk: where the name does not fit
    created_by: uuid.UUID | None = None

    @property
    def is_open(self) -> bool:
        return self.done_at is None


@dataclass(frozen=True)
class TaskDraft:
    """A task as a person typed it (a form, Quick Call's "next task"): `due` is text for
    `due.parse_due` ("tomorrow 9:15", "+3", "2026-12-05 2pm"). The assignee is the acting
    user unless `assignee_id` names someone or `unassigned` is set."""

    kind: TaskKind | str
    title: str
    due: str
    notes: str | None = None
    estimate_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    unassigned: bool = False


class Bucket:
    """My tasks' sections, computed in SQL against the business day."""

    overdue = "overdue"  # all-day before today, or timed before now
    today = "today"  # the rest of today
    upcoming = "upcoming"  # tomorrow and later

    ALL = ("overdue", "today", "upcoming")


@dataclass(frozen=True)
class MyTasks:
    """A person's open tasks in three buckets (each list at most the limit asked for) and
    each bucket's full count."""

    overdue: list[TaskRow] = field(default_factory=list)
    today: list[TaskRow] = field(default_factory=list)
    upcoming: list[TaskRow] = field(default_factory=list)
    overdue_count: int = 0
    today_count: int = 0
    upcoming_count: int = 0

    @property
    def due_count(self) -> int:
        """Overdue and due today: what needs doing now (a badge, the dashboard)."""
        return self.overdue_count + self.today_count

    def rows(self) -> list[tuple[str, TaskRow]]:
        """Every row shown, with its bucket, in display order."""
        return (
            [(Bucket.overdue, r) for r in self.overdue]
            + [(Bucket.today, r) for r in self.today]
            + [(Bucket.upcoming, r) for r in self.upcoming]
        )
