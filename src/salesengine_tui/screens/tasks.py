"""Sales > Tasks ("My tasks"): the open tasks to work, overdue first, then today's, then the
upcoming ones, each bucket with its count. `x` marks one done (`u` reopens the last one marked
done here, dimmed while there is none), `enter` opens the customer,
`c` calls them for it (Quick Call completes it), `n` adds a task, `e` edits or reschedules,
`o` shows someone else's: a manager's cycle is mine, everyone's, unassigned; a rep's, mine
and unassigned (the ones they may take). The list is virtual (any number of tasks) and loads
again when a notification arrives for me (a task fell due) and on coming back to it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.content import Content
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.widgets import Static

from ..access import permissions
from ..base.errors import UserError
from ..customers.phones import phone_display
from ..tasks.model import Bucket, TaskRow
from ..tasks.pages import Whose
from ..tasks.rules import describe
from ..ui.display import number
from ..usecases.context import AppContext
from ..widgets.task_list import TaskList, header_line
from .base import SectionScreen
from .commands import PaletteCommand, from_keys
from .customer import CustomerScreen
from .keys import bindings
from .quick_call import CallResult, CallTarget, quick_call_for
from .sections import TASKS
from .task_form import TaskFormResult, desk_task_form


class View(StrEnum):
    mine = "mine"
    everyone = "everyone"
    unassigned = "unassigned"


VIEW_TITLES = {View.mine: "mine", View.everyone: "everyone's", View.unassigned: "unassigned"}

# Bindings as data: (keys, action, description, id, tooltip, shown in the footer)
_KEYS: list[tuple[str, str, str, str, str, bool]] = [
    ("up,k", "cursor(-1)", "Up", "tasks.up", "Previous task", False),
    ("down,j", "cursor(1)", "Down", "tasks.down", "Next task", False),
    ("g,home", "first", "First", "tasks.first", "First task", False),
    ("G,end", "last", "Last", "tasks.last", "Last task", False),
    ("pageup", "page(-1)", "Page up", "tasks.page_up", "A screenful up", False),
    ("pagedown", "page(1)", "Page down", "tasks.page_down", "A screenful down", False),
    ("x", "done", "Done", "tasks.done", "Mark the task done (a toast names it)", True),
    ("u", "undo", "Undo done", "tasks.undo", "Reopen the task last marked done here", True),
    ("enter", "open", "Open", "tasks.open", "The customer's profile and timeline", True),
    ("c", "call", "Call", "tasks.call", "Quick Call: the call completes this task", True),
    ("n", "new", "New", "tasks.new", "Add a task: customer, title, due, kind, assignee", True),
    ("e", "edit", "Edit", "tasks.edit", "Edit or reschedule the task", True),
    ("o", "whose", "Whose", "tasks.whose", "Mine, everyone's or unassigned (toggle)", True),
]  # fmt: skip
NEEDS_A_TASK = {"done", "open", "call", "edit"}


@dataclass
class TasksCounted(Message):
    counts: dict[str, int]
    view: View  # what was counted (a newer view makes this stale)
    cursor: int | None  # where to put the cursor (None: where it is)


@dataclass
class TasksChanged(Message):
    """A write on a task is done (or refused): say so and load again, the cursor kept."""

    note: str
    severity: SeverityLevel = "information"


@dataclass
class TaskCompleted(Message):
    """`x` succeeded: `task` as saved (done) is what `u` reopens."""

    task: TaskRow


class TasksScreen(SectionScreen):
    SECTION = TASKS
    CSS_PATH = "tasks.tcss"
    AUTO_FOCUS = "TaskList"
    BINDINGS: ClassVar[list[BindingType]] = [*SectionScreen.BINDINGS, *bindings(_KEYS)]

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self.view = View.mine
        self.counts: dict[str, int] = dict.fromkeys(Bucket.ALL, 0)
        self._resumed_before = False
        self._listed = self.whose(self.view)  # whose tasks the list shows now
        self.last_done: TaskRow | None = None  # what `u` reopens: the last `x` here, as saved

    def compose_body(self) -> ComposeResult:
        yield Static(id="tasks-header")
        yield TaskList(self._fetch, now=self.ctx.clock.now, tz=self.tz, id="tasks")
        yield Static(id="tasks-empty")

    @property
    def tasks(self) -> TaskList:
        return self.query_one(TaskList)

    @property
    def is_manager(self) -> bool:
        return permissions.allowed(self.ctx.actor, permissions.Action.reassign)

    def whose(self, view: View) -> Whose:
        if view is View.mine:
            return Whose(assignee_id=self.ctx.actor.id)
        return Whose(unassigned=True) if view is View.unassigned else Whose()

    @on(TaskList.WidthChanged)
    def _paint_header(self, message: TaskList.WidthChanged) -> None:
        """Column titles laid out at exactly the width the rows are drawn at."""
        message.stop()
        shown = header_line(message.width, assignee=self.tasks.show_assignee)
        self.query_one("#tasks-header", Static).update(shown)

    # --- loading ------------------------------------------------------------------------

    def reload(self, cursor: int | None = None) -> None:
        self._load(self.view, cursor)

    @work(thread=True, exclusive=True, exit_on_error=False, group="tasks-load")
    def _load(self, view: View, cursor: int | None) -> None:
        self.deliver(TasksCounted(self.desk.tasks.bucket_counts(self.whose(view)), view, cursor))

    def _fetch(self, bucket: str, offset: int, limit: int, after: TaskRow | None) -> list[TaskRow]:
        """Runs in the list's worker thread: the tasks of the view the list was counted for."""
        return self.desk.tasks.bucket_page(
            self._listed, bucket, limit=limit, offset=offset, after=after
        )

    @on(TasksCounted)
    def _show(self, message: TasksCounted) -> None:
        message.stop()
        if message.view != self.view:
            return  # the view changed while this was loading; a newer load is on its way
        self.counts = message.counts
        self._listed = self.whose(message.view)
        self.tasks.show(
            message.counts, show_assignee=self.view is not View.mine, cursor=message.cursor
        )
        c = message.counts
        self.set_title_detail(
            VIEW_TITLES[self.view],
            f"{number(c[Bucket.overdue])} overdue",
            f"{number(c[Bucket.today])} today",
            f"{number(c[Bucket.upcoming])} upcoming",
        )
        empty = self.query_one("#tasks-empty", Static)
        empty.display = not self.tasks.task_count
        empty.update(
            Content(
                "Nothing open here. n adds a task; Quick Call (c in Leads) schedules the next one."
            )
        )

    def on_screen_resume(self) -> None:
        # Back from a profile, a call or another section: what is due may have changed.
        # (Textual runs SectionScreen's handler as well: the header's unread count.)
        if self._resumed_before:
            self.reload()
        self._resumed_before = True

    @on(TaskList.Selected)
    def _selected(self, message: TaskList.Selected) -> None:
        message.stop()
        self.refresh_bindings()

    @on(TaskList.Opened)
    def _double_clicked(self, message: TaskList.Opened) -> None:
        message.stop()
        self.action_open()

    # --- navigation ---------------------------------------------------------------------

    def action_cursor(self, delta: int) -> None:
        self.tasks.move_by(delta)

    def action_page(self, direction: int) -> None:
        self.tasks.move_by(direction * self.tasks.page_items)

    def action_first(self) -> None:
        self.tasks.move_to(0)

    def action_last(self) -> None:
        self.tasks.move_to(self.tasks.count - 1)

    # --- what is done to a task -----------------------------------------------------------

    def action_done(self) -> None:
        if (task := self.tasks.current_task) is not None:
            self._complete(task)

    @work(thread=True, exit_on_error=False, group="tasks-write")
    def _complete(self, task: TaskRow) -> None:
        try:
            done = self.desk.tasks.complete(task)
        except UserError as error:  # done already, changed, or not theirs: say so, reload
            self.deliver(TasksChanged(f"Not done: {error}", severity="warning"))
            return
        self.deliver(TaskCompleted(done))
        self.deliver(
            TasksChanged(
                f"Done: {describe(task.kind, task.title)} · {task.customer_name} (u: undo)"
            )
        )

    @on(TaskCompleted)
    def _completed(self, message: TaskCompleted) -> None:
        message.stop()
        self.last_done = message.task
        self.refresh_bindings()

    def action_undo(self) -> None:
        if (task := self.last_done) is not None:
            self.last_done = None  # one undo: the task is open again, or the toast says why not
            self.refresh_bindings()
            self._reopen(task)

    @work(thread=True, exit_on_error=False, group="tasks-write")
    def _reopen(self, task: TaskRow) -> None:
        try:
            self.desk.tasks.reopen(task)
        except UserError as error:  # reopened or changed by someone, or not theirs to reopen
            self.deliver(TasksChanged(f"Not reopened: {error}", severity="warning"))
            return
        self.deliver(
            TasksChanged(f"Reopened: {describe(task.kind, task.title)} · {task.customer_name}")
        )

    @on(TasksChanged)
    def _changed(self, message: TasksChanged) -> None:
        message.stop()
        self.notify(message.note, severity=message.severity, timeout=5, markup=False)
        self.reload()

    def action_open(self) -> None:
        if (task := self.tasks.current_task) is not None:
            self.app.push_screen(CustomerScreen(self.ctx, task.customer_id))

    def action_call(self) -> None:
        task = self.tasks.current_task
        if task is None:
            return
        phone = phone_display(task.customer_phone, task.customer_phone_ext)
        target = CallTarget(task.customer_id, task.customer_name, phone, task.id)

        def called(result: CallResult | None) -> None:
            if result is None:
                self.notify("Call not logged", timeout=2)
            else:
                self.post_message(TasksChanged(result.summary(task.customer_name)))

        self.app.push_screen(quick_call_for(self.desk, target), called)

    def action_new(self) -> None:
        def save(result: TaskFormResult) -> TaskRow:  # in the form's worker
            return self.desk.tasks.create(result.customer_id, result.draft)

        def added(result: TaskFormResult | None) -> None:
            if result is not None:
                what = describe(result.draft.kind, result.draft.title)
                self.post_message(TasksChanged(f"Added: {what} · {result.customer_name}"))

        self.app.push_screen(desk_task_form(self.desk, save), added)

    def action_edit(self) -> None:
        task = self.tasks.current_task
        if task is None:
            return

        def save(result: TaskFormResult) -> TaskRow:  # in the form's worker
            return self.desk.tasks.update(task, result.draft)

        def edited(result: TaskFormResult | None) -> None:
            if result is not None:
                what = describe(result.draft.kind, result.draft.title)
                self.post_message(TasksChanged(f"Saved: {what} · {task.customer_name}"))

        self.app.push_screen(desk_task_form(self.desk, save, task=task), edited)

    def action_whose(self) -> None:
        # Reps see the unassigned ones too: theirs to take.
        cycle = [View.mine, View.everyone, View.unassigned]
        if not self.is_manager:
            cycle.remove(View.everyone)
        at = cycle.index(self.view) if self.view in cycle else -1
        self.view = cycle[(at + 1) % len(cycle)]
        self.reload(cursor=0)

    # --- which keys apply now -----------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "undo":
            return self.last_done is not None or None  # None: shown dimmed
        if action in NEEDS_A_TASK:
            found = next(iter(self.query(TaskList)), None)
            return (found is not None and found.current_task is not None) or None
        return super().check_action(action, parameters)

    def palette_commands(self) -> Iterable[PaletteCommand]:
        yield from super().palette_commands()
        skip = {"cursor(-1)", "cursor(1)", "first", "last", "page(-1)", "page(1)"}
        yield from from_keys(self.run_action, _KEYS, skip=skip)
