"""A task, new or edited: customer (picked by typing part of a name, email or phone in the
deal form's `CustomerPicker`, unless the opener knows it), title, when it is due (read back as
you type: "fri 2pm" -> Fri 2026-11-27 14:00), kind, assignee and notes. The first field has
the cursor; enter moves on and saves from the due field (kind, assignee and notes keep their
defaults unless tabbed to); ctrl+s saves from anywhere. The form closes once saved and stays
as typed if the save fails (`SavingForm`). Used by My tasks (`n`, `e`), the profile (`t`)
and Quick Call (the next task's details, kept in the call until it is saved)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar
from zoneinfo import ZoneInfo

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Label, Static

from ..base.errors import UserError
from ..customers.inbox import Person
from ..tasks.due import HELP, due_text, parse_due
from ..tasks.model import KIND_LABELS, NOTES_MAX, TITLE_MAX, TaskDraft, TaskKind, TaskRow
from ..tasks.rules import clean_notes, clean_title
from ..ui.display import editable, visible
from ..usecases import Desk
from ..usecases.customers import CustomerMatch
from .customer_picker import ChosenCustomer, CustomerPicker
from .saving_form import SavingForm

NOBODY = "nobody"


@dataclass(frozen=True)
class TaskFormResult:
    customer_id: uuid.UUID
    customer_name: str
    draft: TaskDraft


class ChoiceLine(Widget, can_focus=True):
    """One line, one choice of a few: ←/→ (or the first letter) changes it."""

    DEFAULT_CSS = """
    ChoiceLine {
        height: 1;
        width: 1fr;
        padding: 0 1;
        background: $boost;
        &:focus { background: $accent 30%; }
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "step(-1)", "Previous", show=False, id="choice.previous"),
        Binding("right", "step(1)", "Next", show=False, id="choice.next"),
        Binding("enter", "submit", "Next field", show=False, id="choice.submit"),
    ]

    @dataclass
    class Submitted(Message):
        choice: ChoiceLine

    def __init__(
        self, choices: Sequence[tuple[str, object]], value: object, *, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.choices = list(choices)
        values = [v for _, v in self.choices]
        self.index = values.index(value) if value in values else 0

    @property
    def value(self) -> object:
        return self.choices[self.index][1] if self.choices else None

    def set_choices(self, choices: Sequence[tuple[str, object]], value: object) -> None:
        self.choices = list(choices)
        values = [v for _, v in self.choices]
        self.index = values.index(value) if value in values else 0
        self.refresh()

    def render(self) -> Text:
        if not self.choices:
            return Text("…", style="dim")
        label = self.choices[self.index][0]
        return Text.assemble(
            ("\u2039 ", "dim"),  # a left angle quote
            (visible(label), "bold"),
            (" \u203a", "dim"),  # a right angle quote
            (f"   {self.index + 1} of {len(self.choices)} · ←/→ to change", "dim"),
            no_wrap=True,
            overflow="ellipsis",
        )

    def action_step(self, delta: int) -> None:
        if self.choices:
            self.index = (self.index + delta) % len(self.choices)
            self.refresh()

    def action_submit(self) -> None:
        self.post_message(self.Submitted(self))

    def on_key(self, event: events.Key) -> None:
        # A letter picks the next choice that starts with it ("s": site visit).
        char = (event.character or "").lower()
        if len(char) != 1 or not char.isalpha() or not self.choices:
            return
        for step in range(1, len(self.choices) + 1):
            at = (self.index + step) % len(self.choices)
            if self.choices[at][0].lower().startswith(char):
                self.index = at
                self.refresh()
                event.stop()
                return


@dataclass
class PeopleLoaded(Message):
    people: list[Person]


class TaskForm(SavingForm[TaskFormResult]):
    CSS_PATH = ["modal.tcss", "task_form.tcss"]
    ERROR_ID = "task-error"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Cancel", id="task_form.cancel"),
        Binding("ctrl+s", "save", "Save", id="task_form.save"),
    ]

    def __init__(
        self,
        save: Callable[[TaskFormResult], object],
        *,
        me: Person,
        now: Callable[[], datetime],
        tz: ZoneInfo,
        people: Callable[[], list[Person]],
        customer: tuple[uuid.UUID, str] | None = None,
        find: Callable[[str], list[CustomerMatch]] | None = None,
        task: TaskRow | None = None,
        draft: TaskDraft | None = None,
        heading: str | None = None,
    ) -> None:
        """`customer` fixed (a profile, a call, an edit), or found with `find`; `task`: edit
        it; `draft`: start from these values (Quick Call's next task)."""
        super().__init__(save)
        if task is not None:
            customer = (task.customer_id, task.customer_name)
        if customer is None and find is None:
            raise ValueError("a task form needs a customer or a way to find one")
        self.fixed_customer = customer
        self.find = find
        self.me, self.now, self.tz, self.load_people = me, now, tz, people
        self.edited = task
        self.draft = draft
        self.heading = heading or ("Edit task" if task else "New task")

    @property
    def customer(self) -> tuple[uuid.UUID, str] | None:
        """Whom the task is for: the opener's customer, else the one picked (None: not yet)."""
        if self.fixed_customer is not None:
            return self.fixed_customer
        chosen = self.query_one(CustomerPicker).value()
        return (chosen.id, chosen.name) if isinstance(chosen, ChosenCustomer) else None

    # --- what the fields start with -------------------------------------------------------

    def _start(self) -> tuple[TaskKind, str, str, str, object]:
        """kind, title, due, notes, assignee (a person's id or NOBODY)."""
        if self.edited is not None:
            t = self.edited
            assignee = t.assignee_id if t.assignee_id is not None else NOBODY
            return t.kind, t.title, due_text(t.due_at, t.all_day, self.tz), t.notes or "", assignee
        if self.draft is not None:
            d = self.draft
            assignee = NOBODY if d.unassigned else (d.assignee_id or self.me.id)
            return TaskKind(d.kind), d.title, d.due, d.notes or "", assignee
        return TaskKind.call, "", "tomorrow", "", self.me.id

    def compose(self) -> ComposeResult:
        kind, title, due, notes, assignee = self._start()
        with Vertical(classes="modal-box", id="task-box"):
            yield Static(self._heading(), classes="modal-title", id="task-heading")
            if self.fixed_customer is None:
                assert self.find is not None
                with Horizontal(classes="form-row", id="task-customer-row"):
                    yield Label("Customer", classes="form-label")
                    yield CustomerPicker(self.find, offer_new_lead=False, id="task-customer")
            with Horizontal(classes="form-row"):
                yield Label("Title", classes="form-label")
                yield Input(
                    value=editable(title),
                    placeholder="e.g. Call back about the quote",
                    id="task-title",
                    max_length=TITLE_MAX,
                )
            with Horizontal(classes="form-row"):
                yield Label("Due", classes="form-label")
                yield Input(value=editable(due), placeholder=HELP, id="task-due", max_length=60)
            yield Static(id="task-due-help")
            with Horizontal(classes="form-row"):
                yield Label("Kind", classes="form-label")
                yield ChoiceLine(
                    [(label, k) for k, label in KIND_LABELS.items()], kind, id="task-kind"
                )
            with Horizontal(classes="form-row"):
                yield Label("Assignee", classes="form-label")
                yield ChoiceLine(self._people_choices([]), assignee, id="task-assignee")
            with Horizontal(classes="form-row"):
                yield Label("Notes", classes="form-label")
                yield Input(
                    value=editable(notes),
                    placeholder="optional",
                    id="task-notes",
                    max_length=NOTES_MAX,
                )
            yield Static(id="task-error")
            yield Static(
                Content("enter: next, saves from Due · tab: kind, assignee, notes · esc cancel"),
                classes="modal-hint",
            )

    def _heading(self) -> Content:
        # A picked customer is in the picker's box; the heading names only a fixed one.
        if self.fixed_customer is None:
            return Content.styled(self.heading, "bold")
        return Content.assemble((f"{self.heading} for ", "bold"), visible(self.fixed_customer[1]))

    def _people_choices(self, people: list[Person]) -> list[tuple[str, object]]:
        """Me first, then the others a task may go to, then nobody; an edited task's current
        assignee stays on offer even when the list would not include them."""
        choices: list[tuple[str, object]] = [(f"{self.me.name} (me)", self.me.id)]
        choices += [(p.name, p.id) for p in people if p.id != self.me.id]
        current = self.edited.assignee_id if self.edited is not None else None
        if current is not None and current not in {v for _, v in choices}:
            choices.append((self.edited.assignee_name or "someone", current))  # type: ignore[union-attr]
        choices.append(("nobody (unassigned)", NOBODY))
        return choices

    def on_mount(self) -> None:
        if self.fixed_customer is None:
            self.query_one(CustomerPicker).focus_first()
        else:
            self.query_one("#task-title", Input).focus()
        self._show_due(self.query_one("#task-due", Input).value)
        self.run_worker(self._people_in_thread, thread=True, exit_on_error=False, group="people")

    def _people_in_thread(self) -> None:
        self.post_message(PeopleLoaded(self.load_people()))

    @on(PeopleLoaded)
    def _people(self, message: PeopleLoaded) -> None:
        message.stop()
        line = self.query_one("#task-assignee", ChoiceLine)
        line.set_choices(self._people_choices(message.people), line.value)

    # --- the customer, picked by typing --------------------------------------------------------

    @on(CustomerPicker.Chosen)
    def _customer_chosen(self, message: CustomerPicker.Chosen) -> None:
        message.stop()
        self.show_error("")
        self.query_one("#task-title", Input).focus()

    # --- moving on, the due read back -----------------------------------------------------------

    @on(Input.Submitted, "#task-title")
    def _title_entered(self) -> None:
        self.query_one("#task-due", Input).focus()

    @on(Input.Submitted, "#task-due")
    @on(Input.Submitted, "#task-notes")
    @on(ChoiceLine.Submitted)
    def _enter_saves(self) -> None:
        self.action_save()

    @on(Input.Changed, "#task-due")
    def _due_typed(self, event: Input.Changed) -> None:
        self._show_due(event.value)

    def _show_due(self, text: str) -> None:
        help_ = self.query_one("#task-due-help", Static)
        try:
            due_at, all_day = parse_due(text, self.now(), self.tz)
        except UserError as error:
            help_.update(Content.styled(visible(str(error)), "$text-muted"))
            return
        local = due_at.astimezone(self.tz)
        when = local.strftime("%a %Y-%m-%d") + (
            ", all day" if all_day else local.strftime(" %H:%M")
        )
        help_.update(Content.styled(f"→ {when}", "$text-success"))

    # --- saving -------------------------------------------------------------------------------

    def action_save(self) -> None:
        customer = self.customer
        if customer is None:
            self.refuse("Customer: type part of a name, then pick one (enter)", "#cp-search")
            return
        title = self.query_one("#task-title", Input).value
        due = self.query_one("#task-due", Input).value
        notes = self.query_one("#task-notes", Input).value
        try:
            clean_title(title)
        except UserError as error:
            self.refuse(f"Title: {error}", "#task-title")
            return
        unchanged_due = self.edited is not None and due.strip() == due_text(
            self.edited.due_at, self.edited.all_day, self.tz
        )
        if not unchanged_due:  # an overdue task keeps its day when only its title changes
            try:
                parse_due(due, self.now(), self.tz)
            except UserError as error:
                self.refuse(f"Due: {error}", "#task-due")
                return
        try:
            clean_notes(notes)
        except UserError as error:
            self.refuse(f"Notes: {error}", "#task-notes")
            return
        assignee = self.query_one("#task-assignee", ChoiceLine).value
        kind = self.query_one("#task-kind", ChoiceLine).value
        start = self.edited or self.draft  # a deal the task was for stays its deal
        estimate = start.estimate_id if start is not None else None
        draft = TaskDraft(
            kind=TaskKind(str(kind)),
            title=title.strip(),
            due=due.strip(),
            notes=notes.strip() or None,
            estimate_id=estimate,
            assignee_id=assignee if isinstance(assignee, uuid.UUID) else None,
            unassigned=assignee == NOBODY,
        )
        self.show_error("")
        self.submit(TaskFormResult(customer[0], customer[1], draft))


def desk_task_form(
    desk: Desk, save: Callable[[TaskFormResult], object], **kwargs: object
) -> TaskForm:
    """A task form wired to the desk: the acting user as "me", the app's clock and business
    time zone, whom tasks may go to, and the customer search (see `TaskForm` for `kwargs`)."""
    ctx = desk.ctx
    actor = desk.tasks.actor
    return TaskForm(
        save,
        me=Person(actor.id, actor.name),
        now=ctx.clock.now,
        tz=ZoneInfo(ctx.settings.business_timezone),
        people=desk.tasks.assignees,
        find=desk.customers.find,
        **kwargs,  # type: ignore[arg-type]
    )
