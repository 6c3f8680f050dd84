"""Quick Call (`c`): who to call and the number, large; a running timer; the customer's open
tasks and last interactions; then the outcome, notes and the next task, all from the keyboard.

Four keys a lead: `c`, an outcome digit (the cursor goes to the notes), enter (to the next
task's due), enter (saved). The call completes the task it is for (the one it was opened for,
else the soonest call due by today; `t` or the list changes it, down to "not for a task"); the
other open tasks stay open, and the dialog says so. The next task starts filled in from the
outcome (a call back in two days after a voicemail, none after "not interested"); an empty due
schedules none, ctrl+n opens the whole task form for it. esc cancels and nothing is written.
The call is saved before the dialog closes: if the save fails, the dialog stays as typed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import ClassVar
from zoneinfo import ZoneInfo

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Digits, Input, Label, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from ..base.clock import Clock
from ..base.errors import UserError
from ..customers.leads import OUTCOMES, outcome_label
from ..customers.profile import NOTES_MAX, CallSheet
from ..tasks.call_followup import FIRST_NEXT, NEXT_BY_OUTCOME, default_task, next_for_outcome
from ..tasks.due import parse_due
from ..tasks.model import TITLE_MAX, TaskDraft, TaskKind, TaskRow, kind_label
from ..ui.display import visible
from ..usecases import Desk
from .base import describe_error
from .call_result import CallResult, CallTarget
from .call_sheet_lines import interaction_line, last_contacts, open_tasks_note, task_prompt
from .saving_form import SavingForm
from .task_form import TaskForm, TaskFormResult, desk_task_form

__all__ = [
    "FIRST_NEXT",
    "NEXT_BY_OUTCOME",
    "CallResult",
    "CallTarget",
    "QuickCallScreen",
    "SheetLoaded",
    "default_task",
    "interaction_line",
    "quick_call_for",
]

DIALABLE = set("0123456789+-() ")
NOT_FOR_A_TASK = "none"


@dataclass
class SheetLoaded(Message):
    sheet: CallSheet


class QuickCallScreen(SavingForm[CallResult]):
    CSS_PATH = ["modal.tcss", "quick_call.tcss"]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Cancel (nothing saved)", id="call.cancel"),
        Binding("ctrl+s", "save", "Save the call", id="call.save"),
        Binding("t", "next_choice", "Which task", id="call.task", show=False),
        Binding("ctrl+n", "next_details", "Next task details", id="call.next_details"),
        *(
            Binding(
                str(i), f"outcome({i - 1})", outcome_label(o), id=f"call.outcome{i}", show=False
            )
            for i, o in enumerate(OUTCOMES, 1)
        ),
    ]

    def __init__(
        self,
        target: CallTarget,
        clock: Clock,
        tz: ZoneInfo,
        save: Callable[[CallResult], object],
        *,
        load: Callable[[], CallSheet],
        next_form: Callable[[TaskDraft], TaskForm] | None = None,
    ) -> None:
        """`load` reads the customer's open tasks and last interactions (in a worker);
        `next_form` opens the whole task form for the next task (its result is kept here)."""
        super().__init__(save)
        self.target = target
        self.clock = clock  # the app's clock: tests fix it, so the timer reads 00:00 there
        self.tz = tz
        self.load = load
        self.next_form = next_form
        self.now = self.started = clock.now()
        self.sheet: CallSheet | None = None
        self.sheet_failed = False
        self.tasks: list[TaskRow] = []
        self._save_when_loaded = False
        self._filled = FIRST_NEXT  # what the outcome filled the next task in with
        self._next_edited = False  # typed into by the person: the outcome no longer fills it
        self._next_extra: TaskDraft | None = None  # kind, assignee, notes from the task form

    def _elapsed(self) -> int:
        return max(0, int((self.clock.now() - self.started).total_seconds()))

    def compose(self) -> ComposeResult:
        phone = self.target.phone or ""
        title, due = FIRST_NEXT
        with Vertical(classes="modal-box", id="call-box"):
            yield Static(self._who(0), id="call-who")
            if phone and set(phone) <= DIALABLE and len(phone) <= 20:
                yield Digits(phone, id="call-number")
            else:
                yield Static(Content(visible(phone) or "no phone number on file"), id="call-number")
            with Horizontal(id="call-columns"):
                yield OptionList(
                    *(Option(f"{i}  {outcome_label(o)}", id=o) for i, o in enumerate(OUTCOMES, 1)),
                    id="call-outcome",
                )
                yield OptionList(Option("loading…", disabled=True), id="call-tasks")
            yield Static(Content.styled("Last contacts: loading…", "dim"), id="call-recent")
            with Horizontal(classes="call-row"):
                yield Label("Notes", classes="call-label")
                yield Input(
                    placeholder="enter for the next task", max_length=NOTES_MAX, id="call-notes"
                )
            with Horizontal(classes="call-row"):
                yield Label("Next call", classes="call-label", id="call-next-label")
                yield Input(
                    value=title, placeholder="title", max_length=TITLE_MAX, id="call-next-title"
                )
                yield Input(value=due, placeholder="due: empty for none", id="call-next")
            yield Static(
                Content("t task · ctrl+n next task details · ctrl+s save · esc cancel"),
                classes="modal-hint",
            )

    def _who(self, seconds: int) -> Content:
        return Content.assemble(
            ("Call ", "bold"),
            visible(self.target.name),
            (f"  ⏱ {seconds // 60:02d}:{seconds % 60:02d}", "dim"),
        )

    def on_mount(self) -> None:
        self.set_interval(1, self._tick)
        options = self.query_one("#call-outcome", OptionList)
        options.border_title = "Outcome (1-5)"
        tasks = self.query_one("#call-tasks", OptionList)
        tasks.border_title = "Completes (t)"
        options.focus()
        self.run_worker(self._load_sheet, thread=True, exit_on_error=False, group="call-sheet")

    def _load_sheet(self) -> None:
        self.post_message(SheetLoaded(self.load()))

    @on(Worker.StateChanged)
    def _sheet_failed(self, event: Worker.StateChanged) -> None:
        """The sheet did not load (the database went away): the call can still be logged, for
        no task, and the dialog says so rather than wait for it."""
        if event.worker.group != "call-sheet" or event.state is not WorkerState.ERROR:
            return
        reason = describe_error(event.worker.error or RuntimeError("?"), self.app.ctx)  # type: ignore[attr-defined]
        self.notify(reason, title="Open tasks not loaded", severity="error", markup=False)
        self.sheet_failed = True
        self.post_message(SheetLoaded(CallSheet([], 0, [])))

    def _tick(self) -> None:
        self.query_one("#call-who", Static).update(self._who(self._elapsed()))

    # --- what the customer has open, and their history --------------------------------------

    @on(SheetLoaded)
    def _sheet(self, message: SheetLoaded) -> None:
        message.stop()
        self.sheet = message.sheet
        self.tasks = list(message.sheet.open_tasks)
        chosen = next((t for t in self.tasks if t.id == self.target.task_id), None)
        if chosen is None and self.target.task_id is None:
            chosen = default_task(self.tasks, self.now, self.tz)
        tasks = self.query_one("#call-tasks", OptionList)
        tasks.clear_options()
        tasks.add_options(
            [Option(self._task_prompt(t, False), id=str(t.id)) for t in self.tasks]
            + [Option(Text("Not for a task"), id=NOT_FOR_A_TASK)]
        )
        tasks.highlighted = self.tasks.index(chosen) if chosen is not None else len(self.tasks)
        self._mark_chosen()
        self._show_recent(message.sheet)
        if self._save_when_loaded:
            self._save_when_loaded = False
            self.action_save()

    def _task_prompt(self, task: TaskRow, chosen: bool) -> Text:
        return task_prompt(task, chosen, self.now, self.tz)

    @property
    def chosen_task(self) -> TaskRow | None:
        index = self.query_one("#call-tasks", OptionList).highlighted
        return self.tasks[index] if index is not None and index < len(self.tasks) else None

    def _mark_chosen(self) -> None:
        tasks = self.query_one("#call-tasks", OptionList)
        chosen = self.chosen_task
        for i, task in enumerate(self.tasks):
            tasks.replace_option_prompt_at_index(i, self._task_prompt(task, task is chosen))
        total = self.sheet.open_task_count if self.sheet else len(self.tasks)
        tasks.border_subtitle = open_tasks_note(total, chosen is not None, self.sheet_failed)

    @on(OptionList.OptionHighlighted, "#call-tasks")
    def _task_highlighted(self) -> None:
        if self.sheet is not None:
            self._mark_chosen()

    @on(OptionList.OptionSelected, "#call-tasks")
    def _task_selected(self) -> None:
        self.query_one("#call-notes", Input).focus()

    def action_next_choice(self) -> None:
        tasks = self.query_one("#call-tasks", OptionList)
        if self.sheet is not None and tasks.option_count:
            tasks.highlighted = ((tasks.highlighted or 0) + 1) % tasks.option_count

    def _show_recent(self, sheet: CallSheet) -> None:
        width = max(20, self.query_one("#call-recent").size.width or 70)
        self.query_one("#call-recent", Static).update(
            last_contacts(sheet, self.now, self.tz, width)
        )

    # --- outcome, notes, the next task ---------------------------------------------------------

    def action_outcome(self, index: int) -> None:
        options = self.query_one("#call-outcome", OptionList)
        options.highlighted = index
        self.query_one("#call-notes", Input).focus()

    @on(OptionList.OptionHighlighted, "#call-outcome")
    def _outcome_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if self._next_edited or event.option.id is None:
            return
        self._filled = next_for_outcome(event.option.id)
        for field, value in zip(("#call-next-title", "#call-next"), self._filled, strict=True):
            self.query_one(field, Input).value = value

    @on(Input.Changed, "#call-next-title")
    @on(Input.Changed, "#call-next")
    def _next_typed(self) -> None:
        # Anything but what the outcome filled in is the person's own: kept from now on.
        typed = (self.query_one("#call-next-title", Input).value,
                 self.query_one("#call-next", Input).value)  # fmt: skip
        self._next_edited = self._next_edited or typed != self._filled

    @on(OptionList.OptionSelected, "#call-outcome")
    def _outcome_chosen(self) -> None:
        self.query_one("#call-notes", Input).focus()

    @on(Input.Submitted, "#call-notes")
    def _notes_done(self) -> None:
        self.query_one("#call-next", Input).focus()

    @on(Input.Submitted, "#call-next-title")
    def _next_title_done(self) -> None:
        self.query_one("#call-next", Input).focus()

    @on(Input.Submitted, "#call-next")
    def _next_done(self) -> None:
        self.action_save()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Digits and letters typed into a field are text, not keys.
        return not (action in {"outcome", "next_choice"} and isinstance(self.focused, Input))

    def _next_draft(self) -> TaskDraft | None:
        """The next task as typed (None: no due, no task); UserError when half given."""
        title = self.query_one("#call-next-title", Input).value.strip()
        due = self.query_one("#call-next", Input).value.strip()
        if not due:  # none, unless a title was typed for one: then it asks when
            if title and title != self._filled[0]:
                raise UserError("when is the next task due? (clear its title for none)")
            return None
        if not title:
            raise UserError("the next task needs a title (clear its due for none)")
        parse_due(due, self.now, self.tz)  # a UserError says what is understood
        base = self._next_extra or TaskDraft(kind=TaskKind.call, title=title, due=due)
        return replace(base, title=title, due=due)

    def action_next_details(self) -> None:
        """The whole task form for the next task: kind, assignee, notes too. Nothing is saved
        until the call is."""
        if self.next_form is None:
            return
        title = self.query_one("#call-next-title", Input).value.strip()
        due = self.query_one("#call-next", Input).value.strip() or "+2"
        base = self._next_extra or TaskDraft(kind=TaskKind.call, title=title, due=due)
        form = self.next_form(replace(base, title=title, due=due))

        def done(result: TaskFormResult | None) -> None:
            if result is None:
                return
            self._next_extra = result.draft
            for field, value in (
                ("#call-next-title", result.draft.title),
                ("#call-next", result.draft.due),
            ):
                self.query_one(field, Input).value = value
            self._next_edited = True
            label = f"Next {kind_label(result.draft.kind)}"
            self.query_one("#call-next-label", Label).update(Content(label))

        self.app.push_screen(form, done)

    def action_save(self) -> None:
        options = self.query_one("#call-outcome", OptionList)
        if options.highlighted is None:
            self.notify("Pick an outcome (1-5) first", severity="warning")
            options.focus()
            return
        if self.sheet is None:  # the task it completes is not on screen yet: wait for it
            self._save_when_loaded = True
            return
        try:
            next_task = self._next_draft()
        except UserError as error:
            self.notify(str(error), title="Next task", severity="error", markup=False)
            self.query_one("#call-next", Input).focus()
            return
        chosen = self.chosen_task
        total = self.sheet.open_task_count
        self.submit(
            CallResult(
                outcome=OUTCOMES[options.highlighted],
                notes=self.query_one("#call-notes", Input).value,
                task=chosen,
                next_task=next_task,
                seconds=self._elapsed(),
                left_open=total - (1 if chosen is not None else 0),
            )
        )


def quick_call_for(desk: Desk, target: CallTarget) -> QuickCallScreen:
    """Quick Call wired to the desk: it reads the customer's sheet, saves the call (completing
    its task and adding the next one in the same transaction), and offers the task form for
    the next task's details."""
    ctx = desk.ctx

    def save(result: CallResult) -> None:  # in the dialog's worker: it closes once saved
        desk.leads.log_call(
            target.customer_id,
            outcome=result.outcome,
            notes=result.notes,
            task=result.task,
            next_task=result.next_task,
        )

    def next_form(draft: TaskDraft) -> TaskForm:
        return desk_task_form(
            desk,
            lambda _: None,  # kept in the call, saved with it
            customer=(target.customer_id, target.name),
            draft=draft,
            heading="Next task",
        )

    return QuickCallScreen(
        target,
        ctx.clock,
        ZoneInfo(ctx.settings.business_timezone),
        save,
        load=lambda: desk.customers.call_sheet(target.customer_id),
        next_form=next_form,
    )
