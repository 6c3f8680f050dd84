"""A deal in one form, from the keyboard: `n` on the board (in the lane under the cursor), `N`
on a customer's profile, convert with a deal in the inbox, and `e` on a card or on the deal
screen (prefilled; saved under the version it was read at).

Fields: the customer (picked by typing, or a new lead typed in: `customer_picker`), title,
value (dollars: `4,200`, `$4,200.50`), expected close (`2026-12-15`, `+30` days, `eom` the end
of this month, `eonm` the end of next month, blank for none), owner, the pipeline when no
lane chose it, and a first task (kind, title, due as the task forms read it) for a new deal.
Each field is checked by the rule the domain uses; the message names it and the cursor goes
there. The form closes once saved; if the save fails it stays as typed (`SavingForm`). A new
lead with the phone or email of a known customer is offered that customer first."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static

from ..access import permissions
from ..access.users import Actor
from ..base import validation
from ..base.errors import UserError
from ..customers.leads import Duplicate
from ..customers.profile import clean_contact
from ..db.models import TaskKind
from ..deals import editing
from ..deals.deal_view import DealView
from ..tasks.due import HELP as DUE_HELP
from ..tasks.model import KIND_LABELS, TaskDraft
from ..ui.display import editable, money, plural, safe_text, visible
from ..usecases import Desk
from ..usecases.deals import DealChoices, DealOpened, NewDeal
from .customer_picker import ChosenCustomer, CustomerPicker, NewLeadTyped
from .keys import bindings
from .new_lead import known_customer_label
from .picker import Picker
from .saving_form import SavingForm

NOBODY = "nobody"  # the owner choice "unassigned"
ANYWAY = "anyway"  # a new lead despite a known customer with its phone or email


@dataclass(frozen=True)
class Where:
    """Where a new deal starts: a pipeline (None: the form asks) and a stage of it (None: the
    first open one)."""

    pipeline_id: uuid.UUID | None = None
    pipeline_name: str = ""
    stage_id: uuid.UUID | None = None
    stage_name: str = ""


@dataclass(frozen=True)
class DealDraft:
    """What the form saves: a new deal (`new_deal`) or the fields an edit changed
    (`changes`); after the save, what the save returned (`outcome`)."""

    customer_id: uuid.UUID | None  # None: a new lead (`new_lead`), or an edit
    customer_name: str
    new_lead: dict[str, str | None] | None
    pipeline_id: uuid.UUID | None
    stage_id: uuid.UUID | None
    title: str
    amount: Decimal
    expected_close_on: date | None
    owner_id: uuid.UUID | None
    first_task: TaskDraft | None = None
    changes: dict[str, object] = field(default_factory=dict)  # an edit: only what differs
    outcome: object = None

    def new_deal(self) -> NewDeal:
        assert self.pipeline_id is not None
        return NewDeal(
            pipeline_id=self.pipeline_id,
            stage_id=self.stage_id,
            title=self.title,
            amount=self.amount,
            expected_close_on=self.expected_close_on,
            owner_id=self.owner_id,
            first_task=self.first_task,
        )


_KEYS: list[tuple[str, str, str, str, str, bool]] = [
    ("escape", "dismiss", "Cancel", "deal_form.cancel", "Close without saving", True),
    ("ctrl+s", "save", "Save", "deal_form.save", "Save the deal", True),
]


def edit_note(number: int, outcome: object) -> str:
    """The toast after an edit: what changed (as the history shows it), and any warning."""
    if not isinstance(outcome, editing.Edited) or not outcome.changes:
        return f"#{number}: nothing changed"
    said = "; ".join(change.describe() for change in outcome.changes)
    warned = "".join(f" (note: {w})" for w in outcome.warnings)
    return visible(f"Saved #{number}: {said}{warned}")


def opened_note(draft: DealDraft, outcome: object) -> str:
    """The toast after a new deal: which, for whom, worth what, and its first task."""
    if not isinstance(outcome, DealOpened):
        return "Deal saved"
    card = outcome.card
    note = f"Opened #{card.number} {card.title} for {card.customer_name} ({money(card.amount)})"
    if draft.new_lead is not None:
        note += " · a new lead"
    if outcome.task_id is not None and draft.first_task is not None:
        note += f" · first task: {draft.first_task.title}"
    return visible(note)


@dataclass
class _ChoicesLoaded(Message):
    choices: DealChoices


class DealForm(SavingForm[DealDraft]):
    CSS_PATH = ["modal.tcss", "deal_form.tcss"]
    ERROR_ID = "deal-error"
    BINDINGS: ClassVar[list[BindingType]] = bindings(_KEYS)

    def __init__(
        self,
        save: Callable[[DealDraft], object],
        *,
        actor: Actor,
        where: Where | None = None,
        customer: tuple[uuid.UUID, str] | None = None,
        deal: DealView | None = None,
        title: str = "",
        heading: str = "",
    ) -> None:
        """`customer`: the deal is for them (else the form picks one); `deal`: edit it."""
        super().__init__(self._save_unless_known)
        self.save_draft = save
        self.actor = actor
        self.where = where or Where()
        self.customer = customer if deal is None else (deal.customer_id, deal.customer_name)
        self.deal = deal
        self.title_value = deal.title if deal is not None else title
        self.heading = heading
        self.choices: DealChoices | None = None
        self.anyway = False  # "a new lead anyway" was chosen for what is typed now

    @property
    def desk(self) -> Desk:
        return self.app.desk  # type: ignore[attr-defined]

    @property
    def creating(self) -> bool:
        return self.deal is None

    # --- layout ----------------------------------------------------------------------------

    def _heading(self) -> Content:
        if self.heading:
            return Content(visible(self.heading))
        if self.deal is not None:
            return Content.assemble(
                ("Edit deal ", "bold"), f"#{self.deal.number} ", visible(self.deal.title)
            )
        parts: list[str | tuple[str, str]] = [("New deal", "bold")]
        if self.customer is not None:
            parts += [" for ", visible(self.customer[1])]
        if self.where.pipeline_name:
            place = self.where.pipeline_name + (
                f" · {self.where.stage_name}" if self.where.stage_name else ""
            )
            parts += [(" in ", "dim"), visible(place)]
        return Content.assemble(*parts)

    def _row(self, label: str, *widgets: Widget, row_id: str | None = None) -> Horizontal:
        return Horizontal(
            Label(label, classes="deal-label"), *widgets, classes="deal-row", id=row_id
        )

    def compose(self) -> ComposeResult:
        d = self.deal
        with Vertical(classes="modal-box", id="deal-box"):
            yield Static(self._heading(), classes="modal-title")
            if self.customer is None:
                with Horizontal(classes="deal-row", id="deal-customer-row"):
                    yield Label("Customer", classes="deal-label")
                    yield CustomerPicker(self.desk.customers.find, id="deal-customer")
            else:
                yield self._row(
                    "Customer",
                    Static(safe_text(self.customer[1], style="bold"), id="deal-customer-name"),
                )
            yield self._row(
                "Title",
                Input(
                    editable(self.title_value),
                    placeholder="e.g. Heat pump, 3 ton",
                    id="deal-title",
                    max_length=editing.TITLE_MAX,
                    compact=True,
                ),
            )
            amount = "" if d is None else f"{d.amount:,.2f}"
            yield self._row(
                "Value $",
                Input(
                    amount,
                    placeholder="4,200 or 4200.50",
                    id="deal-value",
                    max_length=20,
                    compact=True,
                ),
                Label("estimate", id="deal-estimated")
                if d is not None and d.amount_estimated
                else Label(""),
            )
            close = d.expected_close_on.isoformat() if d and d.expected_close_on else ""
            yield self._row(
                "Expected close",
                Input(
                    close,
                    placeholder="2026-12-15, +30, eom (end of month), blank: none",
                    id="deal-close",
                    max_length=20,
                    compact=True,
                ),
            )
            yield self._row("Owner", Select([], prompt="loading…", id="deal-owner", compact=True))
            if self.creating and self.where.pipeline_id is None:
                yield self._row(
                    "Pipeline", Select([], prompt="loading…", id="deal-pipeline", compact=True)
                )
            if self.creating:
                yield self._row(
                    "First task",
                    Select(
                        [(Text(label), kind.value) for kind, label in KIND_LABELS.items()],
                        value=TaskKind.call.value,
                        allow_blank=False,
                        id="deal-task-kind",
                        compact=True,
                    ),
                    Input(
                        placeholder="title (blank: no task)",
                        id="deal-task-title",
                        max_length=200,
                        compact=True,
                    ),
                    Input(
                        placeholder="due: tomorrow 10am",
                        id="deal-task-due",
                        max_length=40,
                        compact=True,
                    ),
                    row_id="deal-task-row",
                )
            yield Static(id="deal-error")
            yield Static(
                Content("enter: next field · ctrl+s save · esc cancel"), classes="modal-hint"
            )

    def on_mount(self) -> None:
        # The first field has the cursor from the start (issue 16).
        if self.customer is None:
            self.query_one(CustomerPicker).focus_first()
        else:
            self.query_one("#deal-title", Input).focus()
        self.run_worker(self._load_choices, thread=True, exit_on_error=False, group="deal-form")

    def _load_choices(self) -> None:
        self.post_message(_ChoicesLoaded(self.desk.deals.choices()))

    @on(_ChoicesLoaded)
    def _show_choices(self, message: _ChoicesLoaded) -> None:
        message.stop()
        self.choices = choices = message.choices
        owner = self.query_one("#deal-owner", Select)
        options, value = self._owner_options(choices)
        owner.set_options(options)
        owner.prompt = "choose"
        owner.value = value
        if self.query("#deal-pipeline"):
            pipelines = self.query_one("#deal-pipeline", Select)
            pipelines.set_options([(safe_text(p.name), str(p.id)) for p in choices.pipelines])
            pipelines.prompt = "choose"
            if choices.pipelines:
                pipelines.value = str(choices.pipelines[0].id)

    def _owner_options(self, choices: DealChoices) -> tuple[list[tuple[Text, str]], str]:
        """Whom the deal may go to: a manager offers everyone and nobody; a rep themselves (and,
        on a deal nobody owns yet, nobody: it stays as it is unless they take it)."""
        actor = self.actor
        current = self.deal.owner_id if self.deal is not None else actor.id
        if permissions.allowed(actor, permissions.Action.reassign):
            people = [(safe_text(p.name), str(p.id)) for p in choices.owners]
            if current is not None and str(current) not in {v for _, v in people}:
                people.insert(
                    0, (safe_text(self.deal.owner_name if self.deal else ""), str(current))
                )
            return [*people, (Text("Unassigned"), NOBODY)], str(current) if current else NOBODY
        me = (Text.assemble(safe_text(actor.name), " (me)"), str(actor.id))
        if self.deal is None or current == actor.id:
            return [me], str(actor.id)
        if current is None:
            return [(Text("Unassigned"), NOBODY), me], NOBODY
        # Someone else's deal: the domain refuses a rep's edit and says whose it is.
        return [(safe_text(self.deal.owner_name or ""), str(current))], str(current)

    # --- moving through the fields --------------------------------------------------------

    def _next_after(self, widget: Widget) -> None:
        order = [
            w
            for w in self.query(
                "#deal-title, #deal-value, #deal-close, #deal-owner, "
                "#deal-pipeline, #deal-task-kind, #deal-task-title, "
                "#deal-task-due"
            )
        ]
        if widget in order and order.index(widget) + 1 < len(order):
            order[order.index(widget) + 1].focus()
        else:
            self.action_save()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._next_after(event.input)

    @on(CustomerPicker.Chosen)
    def _customer_chosen(self, message: CustomerPicker.Chosen) -> None:
        message.stop()
        if message.choice is not None:  # a customer, or a new lead with its phone and email
            self.query_one("#deal-title", Input).focus()

    @on(Select.Changed, "#deal-owner, #deal-pipeline, #deal-task-kind")
    def _picked(self, event: Select.Changed) -> None:
        if event.select.has_focus and not event.select.expanded:
            self._next_after(event.select)

    # --- checking and saving --------------------------------------------------------------

    def _value(self, field_id: str) -> str:
        return self.query_one(f"#{field_id}", Input).value

    def action_save(self) -> None:
        if self.choices is None:
            self.show_error("still loading the owners; a moment")
            return
        try:
            draft = self._draft()
        except _Refused as refused:
            self.refuse(str(refused.error), f"#{refused.field_id}")
            return
        self.show_error("")
        self.submit(draft)

    def _check(self, field_id: str, check: Callable[[], object]) -> object:
        try:
            return check()
        except UserError as error:
            raise _Refused(field_id, error) from None

    def _draft(self) -> DealDraft:
        customer_id, name, new_lead = self._customer()
        title = self._check("deal-title", lambda: editing.clean_title(self._value("deal-title")))
        amount = self._check(
            "deal-value", lambda: validation.parse_money(self._value("deal-value"))
        )
        today = self.desk.deals.today()

        def close_date() -> date | None:
            day = editing.parse_close_date(self._value("deal-close"), today)
            return editing.check_close_date(day, today, allow_past=not self.creating)

        close = self._check("deal-close", close_date)
        owner_value = self.query_one("#deal-owner", Select).value
        if owner_value is Select.NULL:
            raise _Refused("deal-owner", "Owner: choose one (or Unassigned)")
        owner_id = None if owner_value == NOBODY else uuid.UUID(str(owner_value))
        pipeline_id = self.where.pipeline_id
        if self.creating and pipeline_id is None:
            chosen = self.query_one("#deal-pipeline", Select).value
            if chosen is Select.NULL:
                raise _Refused("deal-pipeline", "Pipeline: choose one")
            pipeline_id = uuid.UUID(str(chosen))
        draft = DealDraft(
            customer_id=customer_id,
            customer_name=name,
            new_lead=new_lead,
            pipeline_id=pipeline_id,
            stage_id=self.where.stage_id,
            title=str(title),
            amount=amount,  # type: ignore[arg-type]
            expected_close_on=close,  # type: ignore[arg-type]
            owner_id=owner_id,
            first_task=self._first_task() if self.creating else None,
        )
        return draft if self.creating else replace(draft, changes=self._changes(draft))

    def _customer(self) -> tuple[uuid.UUID | None, str, dict[str, str | None] | None]:
        if self.customer is not None:
            return self.customer[0], self.customer[1], None
        choice = self.query_one(CustomerPicker).value()
        if isinstance(choice, ChosenCustomer):
            return choice.id, choice.name, None
        if isinstance(choice, NewLeadTyped):
            values = choice.values()
            for key, field_id in (
                ("name", "cp-search"),
                ("phone", "cp-phone"),
                ("email", "cp-email"),
            ):
                self._check(field_id, lambda key=key: clean_contact({key: values[key]}))
            if not (values["phone"] or "").strip() and not (values["email"] or "").strip():
                raise _Refused("cp-phone", "New lead: a phone or an email, to reach them")
            return None, choice.name.strip(), values
        raise _Refused("cp-search", "Customer: type a name and choose one (or a new lead)")

    def _first_task(self) -> TaskDraft | None:
        title = self._value("deal-task-title").strip()
        due = self._value("deal-task-due").strip()
        if not title and not due:
            return None
        if not title:
            raise _Refused("deal-task-title", "First task: a title (or clear its due)")
        self._check(
            "deal-task-title", lambda: validation.require_text(title, "task title", max_len=200)
        )
        if not due:
            raise _Refused("deal-task-due", f"First task: when is it due? ({DUE_HELP})")
        self._check("deal-task-due", lambda: self.desk.tasks.parse_due(due))
        kind = self.query_one("#deal-task-kind", Select).value
        return TaskDraft(kind=str(kind), title=title, due=due)

    def _changes(self, draft: DealDraft) -> dict[str, object]:
        """The fields an edit changed from what the form was opened with (and a value typed on
        an estimated one: saving it confirms it)."""
        d = self.deal
        assert d is not None
        changed: dict[str, object] = {}
        if draft.title != d.title:
            changed["title"] = draft.title
        if draft.amount != d.amount or (d.amount_estimated and self._value_touched()):
            changed["amount"] = draft.amount
        if draft.expected_close_on != d.expected_close_on:
            changed["expected_close_on"] = draft.expected_close_on
        if draft.owner_id != d.owner_id:
            changed["owner_id"] = draft.owner_id
        return changed

    def _value_touched(self) -> bool:
        d = self.deal
        return d is not None and self._value("deal-value") != f"{d.amount:,.2f}"

    # --- a new lead that may be a known customer -----------------------------------------

    def _save_unless_known(self, draft: DealDraft) -> object:
        """In the save's worker: customers the new lead may already be, or what the save did."""
        anyway, self.anyway = self.anyway, False  # asked again if this save fails
        if draft.new_lead is not None and not anyway:
            found = self.desk.leads.possible_duplicates(draft.new_lead)
            if found:
                return _Known(found)
        return self.save_draft(draft)

    def saved(self, result: DealDraft, value: object) -> None:
        if isinstance(value, _Known):
            self._ask_about(value.found)
        else:
            self.dismiss(replace(result, outcome=value))

    def _ask_about(self, found: list[Duplicate]) -> None:
        choices: list[tuple[Text, object]] = [(known_customer_label("Use", d), d) for d in found]
        choices.append((Text("Add a new lead anyway"), ANYWAY))
        title = f"{plural(len(found), 'customer')} with the same phone or email"

        def chosen(choice: object) -> None:
            if choice == ANYWAY:
                self.anyway = True
                self.action_save()
            elif isinstance(choice, Duplicate):  # the deal goes to the known customer
                self.query_one(CustomerPicker).choose(choice.id, choice.name)
                self.action_save()
            # esc: back to the form, as typed

        self.app.push_screen(Picker(title, choices), chosen)


@dataclass(frozen=True)
class _Known:
    found: list[Duplicate]


class _Refused(Exception):
    def __init__(self, field_id: str, error: UserError | str) -> None:
        super().__init__(str(error))
        self.field_id = field_id
        self.error = error
