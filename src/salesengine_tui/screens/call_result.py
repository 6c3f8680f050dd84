"""What Quick Call is opened with (whom it calls, for which task) and what it hands back (the
outcome, notes, the task it completes and the next one), with the toast that says so."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from ..customers.leads import outcome_label
from ..tasks.model import TaskDraft, TaskRow, kind_label
from ..ui.display import plural


@dataclass(frozen=True)
class CallTarget:
    """Whom Quick Call calls, and the task it was opened for (None: the default rule)."""

    customer_id: uuid.UUID
    name: str
    phone: str | None  # as shown (`customers.phones.phone_display`)
    task_id: uuid.UUID | None = None


@dataclass(frozen=True)
class CallResult:
    outcome: str
    notes: str
    task: TaskRow | None  # the task the call completes (None: not for a task)
    next_task: TaskDraft | None
    seconds: int
    left_open: int  # the customer's other open tasks, which stay open

    def summary(self, name: str) -> str:
        """What the toast says once it is saved."""
        minutes, seconds = divmod(self.seconds, 60)
        parts = [
            f"Logged: {outcome_label(self.outcome)} call with {name} ({minutes}:{seconds:02d})"
        ]
        if self.task is not None:
            parts.append(f'completed "{self.task.title}"')
        if self.next_task is not None:
            parts.append(f'next: {kind_label(self.next_task.kind)} "{self.next_task.title}"')
        if self.left_open:
            parts.append(f"{plural(self.left_open, 'other task')} still open")
        return "; ".join(parts)
