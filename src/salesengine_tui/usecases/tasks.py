"""Tasks: a customer's and a deal's open tasks, My tasks, and every change to a task; the
calendar export; the runner's "a timed task fell due" notifications."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import datetime
from typing import Any

from ..access import permissions
from ..automation import task_reminders
from ..automation.job_runs import RunResult
from ..base.errors import UserError
from ..customers.inbox import Person, assignable_users
from ..tasks import editing, ics, pages, queries
from ..tasks.due import due_label, due_text, parse_due
from ..tasks.model import MyTasks, TaskDraft, TaskKind, TaskRow
from .base import UseCases
from .jobs import Jobs

_UNSET: Any = object()


class Tasks(UseCases):
    # --- reads ------------------------------------------------------------------------------

    def get(self, task_id: uuid.UUID) -> TaskRow:
        with self.read() as session:
            return queries.get_task(session, task_id)

    def open_for(
        self,
        *,
        customer_id: uuid.UUID | None = None,
        estimate_id: uuid.UUID | None = None,
        limit: int = 50,
    ) -> list[TaskRow]:
        """A customer's (or a deal's) open tasks, the soonest first."""
        if customer_id is None and estimate_id is None:
            raise UserError("open tasks of which customer or deal?")
        with self.read() as session:
            return queries.open_tasks(
                session, customer_id=customer_id, estimate_id=estimate_id, limit=limit
            )

    def done_for(
        self,
        *,
        customer_id: uuid.UUID | None = None,
        estimate_id: uuid.UUID | None = None,
        limit: int = 3,
    ) -> list[TaskRow]:
        """The last tasks done for a customer (or a deal), newest first."""
        with self.read() as session:
            return queries.done_tasks(
                session, customer_id=customer_id, estimate_id=estimate_id, limit=limit
            )

    def mine(
        self,
        *,
        user_id: uuid.UUID | None = None,
        unassigned: bool = False,
        limit: int = queries.MY_TASKS_LIMIT,
    ) -> MyTasks:
        """My tasks: the acting user's (or `user_id`'s; `unassigned`: nobody's) open tasks,
        overdue, today and upcoming against the business day, with each bucket's count."""
        with self.read() as session:
            return queries.my_tasks(
                session,
                now=self.now(),
                tz=self.tz,
                assignee_id=None if unassigned else (user_id or self.actor.id),
                unassigned=unassigned,
                limit=limit,
            )

    def bucket_counts(self, whose: pages.Whose) -> dict[str, int]:
        """My tasks' bucket counts (overdue, today, upcoming) for a person, nobody or everyone."""
        with self.read() as session:
            return pages.bucket_counts(session, whose, now=self.now(), tz=self.tz)

    def bucket_page(
        self,
        whose: pages.Whose,
        bucket: str,
        *,
        limit: int,
        offset: int = 0,
        after: TaskRow | None = None,
    ) -> list[TaskRow]:
        """A block of one bucket of My tasks: after a task shown (keyset), else by offset."""
        key = (after.due_at, after.id) if after is not None else None
        with self.read() as session:
            return pages.bucket_page(
                session,
                whose,
                bucket,
                now=self.now(),
                tz=self.tz,
                limit=limit,
                offset=offset,
                after=key,
            )

    def assignees(self) -> list[Person]:
        """Whom the acting user may give a task to: a manager anyone active (reps and
        managers), a rep themselves (and nobody, which a form offers apart)."""
        with self.read() as session:
            people = assignable_users(session)
        if permissions.allowed(self.actor, permissions.Action.reassign):
            return people
        return [p for p in people if p.id == self.actor.id]

    # --- due times as people type and read them ----------------------------------------------

    def parse_due(self, text: str) -> tuple[datetime, bool]:
        """(due_at, all_day) for what was typed, or UserError (a form's live check)."""
        return parse_due(text, self.now(), self.tz)

    def due_label(self, task: TaskRow) -> str:
        """ "today 14:30", "tomorrow", "3d overdue": for lists."""
        return due_label(task.due_at, task.all_day, self.now(), self.tz)

    def due_text(self, task: TaskRow) -> str:
        """The task's due as `parse_due` reads it back: a form's field being edited."""
        return due_text(task.due_at, task.all_day, self.tz)

    # --- changes ------------------------------------------------------------------------------

    def create(self, customer_id: uuid.UUID, draft: TaskDraft) -> TaskRow:
        """A new task (the acting user's unless the draft says otherwise); returns it."""
        with self.write() as session:
            task_id = editing.create_from_draft(
                session, self.actor, customer_id, draft, now=self.now(), tz=self.tz
            )
            return queries.get_task(session, task_id)

    def complete(self, task: TaskRow) -> TaskRow:
        """Done, by the acting user, now; refused when done already or changed since read.
        Returns the task as saved (done): what `reopen` takes to undo it."""
        with self.write() as session:
            editing.complete_task(
                session, self.actor, task.id, expected_version=task.version, now=self.now()
            )
            return queries.get_task(session, task.id)

    def reopen(self, task: TaskRow) -> TaskRow:
        """Undo a completion (`task` as `complete` returned it): open again, as it was due.
        Whoever completed it or a manager; refused when it changed since. Returns it open."""
        with self.write() as session:
            editing.reopen_task(
                session, self.actor, task.id, expected_version=task.version, now=self.now()
            )
            return queries.get_task(session, task.id)

    def reschedule(self, task: TaskRow, due: str) -> TaskRow:
        due_at, all_day = self.parse_due(due)
        with self.write() as session:
            editing.reschedule_task(
                session,
                self.actor,
                task.id,
                expected_version=task.version,
                due_at=due_at,
                all_day=all_day,
                now=self.now(),
            )
            return queries.get_task(session, task.id)

    def edit(
        self,
        task: TaskRow,
        *,
        kind: TaskKind | str = _UNSET,
        title: str = _UNSET,
        notes: str | None = _UNSET,
        due: str = _UNSET,
    ) -> TaskRow:
        """Change what is given (the due as typed text); returns the task as saved."""
        changes: dict[str, Any] = {
            k: v for k, v in (("kind", kind), ("title", title), ("notes", notes)) if v is not _UNSET
        }
        if due is not _UNSET:
            changes["due"] = self.parse_due(due)
        with self.write() as session:
            editing.edit_task(
                session,
                self.actor,
                task.id,
                expected_version=task.version,
                now=self.now(),
                **changes,
            )
            return queries.get_task(session, task.id)

    def update(self, task: TaskRow, draft: TaskDraft) -> TaskRow:
        """The task form's edit, in one transaction: what differs of kind, title, notes, due
        (left alone when the text is the task's own, so an overdue task's title can change)
        and assignee (`draft.unassigned`: nobody; else `draft.assignee_id`)."""
        changes: dict[str, Any] = {}
        if TaskKind(draft.kind) != task.kind:
            changes["kind"] = draft.kind
        if draft.title != task.title:
            changes["title"] = draft.title
        if (draft.notes or None) != task.notes:
            changes["notes"] = draft.notes
        if draft.due.strip() != self.due_text(task):
            changes["due"] = self.parse_due(draft.due)
        assignee = None if draft.unassigned else draft.assignee_id
        version = task.version
        with self.write() as session:
            if assignee != task.assignee_id:
                editing.reassign_task(
                    session, self.actor, task.id, assignee, expected_version=version, now=self.now()
                )
                version += 1
            if changes:
                editing.edit_task(
                    session,
                    self.actor,
                    task.id,
                    expected_version=version,
                    now=self.now(),
                    **changes,
                )
            return queries.get_task(session, task.id)

    def reassign(self, task: TaskRow, assignee_id: uuid.UUID | None) -> str:
        """Managers: anyone; a rep takes an unassigned task (or gives their own back).
        Returns the new assignee's name."""
        with self.write() as session:
            return editing.reassign_task(
                session,
                self.actor,
                task.id,
                assignee_id,
                expected_version=task.version,
                now=self.now(),
            )

    def delete(self, task: TaskRow) -> None:
        """Its creator or a manager, while it is open."""
        with self.write() as session:
            editing.delete_task(session, self.actor, task.id, expected_version=task.version)

    # --- the calendar export (the CLI) -----------------------------------------------------

    def export_ics(self, login: str) -> ics.Calendar:
        """`login`'s open tasks as an iCalendar document: managers for anyone, others for
        themselves."""
        with self.read() as session:
            return ics.calendar_for(session, self.actor, login, now=self.now(), tz=self.tz)

    # --- the jobs runner -------------------------------------------------------------------

    def remind_due(self) -> RunResult:
        """Timed tasks that fell due: one notification each to the assignee (a toast in an
        open app), exactly once however many runners run; recorded as the `tasks` job."""
        return Jobs(self.ctx).run(
            "tasks",
            lambda session: asdict(task_reminders.remind(session, now=self.now(), tz=self.tz)),
        )
