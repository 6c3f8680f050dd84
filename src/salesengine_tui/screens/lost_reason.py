"""Moving a card to a Lost stage asks why: a configured reason, or the user's own words."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from ..ui.display import safe_text, visible
from ..widgets.pick_list import PickList

OTHER = "__other__"


class LostReasonScreen(ModalScreen[str | None]):
    """Returns the reason, or None when the user cancels (the move is then not made)."""

    CSS_PATH = "modal.tcss"
    DEFAULT_CLASSES = "dialog"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Cancel the move", id="lost.cancel"),
    ]

    def __init__(self, card_label: str, stage_name: str, reasons: list[str]) -> None:
        super().__init__()
        self.card_label = card_label
        self.stage_name = stage_name
        self.reasons = reasons

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box"):
            yield Static(
                Content.assemble(
                    ("Why was ", "bold"),
                    self.card_label,
                    (" lost?", "bold"),
                ),
                classes="modal-title",
            )
            yield PickList(
                *(Option(safe_text(reason), id=str(i)) for i, reason in enumerate(self.reasons)),
                Option("Other (type a reason)…", id=OTHER),
                id="reason-options",
            )
            yield Input(placeholder="Reason, in your words; enter to save", id="reason-text")
            yield Static(
                Content(f"enter to move to {visible(self.stage_name)} · esc to cancel the move"),
                classes="modal-hint",
            )

    def on_mount(self) -> None:
        self.query_one(Input).display = False

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        if event.option.id == OTHER:
            field = self.query_one(Input)
            field.display = True
            field.focus()
            return
        assert event.option.id is not None
        self.dismiss(self.reasons[int(event.option.id)])

    @on(Input.Submitted)
    def _typed(self, event: Input.Submitted) -> None:
        reason = event.value.strip()
        if not reason:
            self.notify("Type a reason, or esc to cancel the move", severity="warning")
            return
        if len(reason) > 500:
            self.notify("500 characters at most, please", severity="warning")
            return
        self.dismiss(reason)
