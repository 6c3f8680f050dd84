"""The deal form's field rows, one line a field with its label on the left: the customer (a
`CustomerPicker` unless the deal is for someone already), title, value, expected close,
owner, the pipeline when no lane chose it, and a first task for a new deal. Loading the owner
and pipeline choices, and enter moving to the next field (saving on the last)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static

from ..access.users import Actor
from ..deals import editing
from ..deals.deal_view import DealView
from ..ui.display import editable, safe_text, visible
from ..usecases import Desk
from ..usecases.deals import DealChoices
from .customer_picker import CustomerPicker
from .deal_draft import DealDraft, Where
from .deal_owner_task import first_task_widgets, owner_options
from .saving_form import SavingForm


@dataclass
class _ChoicesLoaded(Message):
    choices: DealChoices


def deal_row(label: str, *widgets: Widget, row_id: str | None = None) -> Horizontal:
    return Horizontal(Label(label, classes="deal-label"), *widgets, classes="deal-row", id=row_id)


class DealFormRows(SavingForm[DealDraft]):
    """The fields of `DealForm` (which sets these in its `__init__`)."""

    actor: Actor
    where: Where
    customer: tuple[uuid.UUID, str] | None
    deal: DealView | None
    title_value: str
    heading: str
    choices: DealChoices | None

    @property
    def desk(self) -> Desk:
        return self.app.desk  # type: ignore[attr-defined]

    @property
    def creating(self) -> bool:
        return self.deal is None

    def action_save(self) -> None:  # checking and saving: `DealSaveFlow`
        raise NotImplementedError

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

    def compose(self) -> ComposeResult:
        d = self.deal
        with Vertical(classes="modal-box", id="deal-box"):
            yield Static(self._heading(), classes="modal-title")
            if self.customer is None:
                with Horizontal(classes="deal-row", id="deal-customer-row"):
                    yield Label("Customer", classes="deal-label")
                    yield CustomerPicker(self.desk.customers.find, id="deal-customer")
            else:
                yield deal_row(
                    "Customer",
                    Static(safe_text(self.customer[1], style="bold"), id="deal-customer-name"),
                )
            yield deal_row(
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
            yield deal_row(
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
            yield deal_row(
                "Expected close",
                Input(
                    close,
                    placeholder="2026-12-15, +30, eom (end of month), blank: none",
                    id="deal-close",
                    max_length=20,
                    compact=True,
                ),
            )
            yield deal_row("Owner", Select([], prompt="loading…", id="deal-owner", compact=True))
            if self.creating and self.where.pipeline_id is None:
                yield deal_row(
                    "Pipeline", Select([], prompt="loading…", id="deal-pipeline", compact=True)
                )
            if self.creating:
                yield deal_row("First task", *first_task_widgets(), row_id="deal-task-row")
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
        options, value = owner_options(self.actor, self.deal, choices)
        owner.set_options(options)
        owner.prompt = "choose"
        owner.value = value
        if self.query("#deal-pipeline"):
            pipelines = self.query_one("#deal-pipeline", Select)
            pipelines.set_options([(safe_text(p.name), str(p.id)) for p in choices.pipelines])
            pipelines.prompt = "choose"
            if choices.pipelines:
                pipelines.value = str(choices.pipelines[0].id)

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
