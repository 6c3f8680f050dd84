"""`i` on a customer: log a call, email, text or meeting, in or out, with notes. The form
closes once the entry is saved; if the save fails it stays as typed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from ..customers.profile import NOTES_MAX
from ..db.models import InteractionDirection, InteractionType
from ..ui.display import visible
from ..widgets.pick_list import PickList
from .saving_form import SavingForm

KINDS: list[tuple[str, InteractionType, InteractionDirection]] = [
    ("Call, outbound", InteractionType.call, InteractionDirection.outbound),
    ("Call, inbound", InteractionType.call, InteractionDirection.inbound),
    ("Email, outbound", InteractionType.email, InteractionDirection.outbound),
    ("Email, inbound", InteractionType.email, InteractionDirection.inbound),
    ("Text message, outbound", InteractionType.sms, InteractionDirection.outbound),
    ("Text message, inbound", InteractionType.sms, InteractionDirection.inbound),
    ("Meeting", InteractionType.meeting, InteractionDirection.outbound),
]


@dataclass(frozen=True)
class NewInteraction:
    type: InteractionType
    direction: InteractionDirection
    notes: str


class InteractionForm(SavingForm[NewInteraction]):
    CSS_PATH = "modal.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Cancel", id="interaction.cancel"),
        Binding("ctrl+s", "save", "Save", id="interaction.save"),
    ]

    def __init__(self, customer_name: str, save: Callable[[NewInteraction], object]) -> None:
        super().__init__(save)
        self.customer_name = customer_name

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box"):
            yield Static(
                Content.assemble(("Log an interaction with ", "bold"), visible(self.customer_name)),
                classes="modal-title",
            )
            yield PickList(
                *(Option(label, id=str(i)) for i, (label, _, _) in enumerate(KINDS)),
                id="interaction-kind",
            )
            yield Input(
                placeholder="Notes; enter to save", max_length=NOTES_MAX, id="interaction-notes"
            )
            yield Static(Content("enter: notes, then save · esc cancel"), classes="modal-hint")

    def on_mount(self) -> None:
        kinds = self.query_one("#interaction-kind", PickList)
        kinds.highlighted = 0
        kinds.focus()  # the first field has the cursor from the start

    @on(OptionList.OptionSelected)
    def _kind(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _notes(self) -> None:
        self.action_save()

    def action_save(self) -> None:
        index = self.query_one(OptionList).highlighted or 0
        _, type_, direction = KINDS[index]
        self.submit(NewInteraction(type_, direction, self.query_one(Input).value))
