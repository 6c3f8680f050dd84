"""Moving a deal to Won asks for its value first when it is $0, or when its value is the
system's estimate (offered, to confirm or correct). Typed as people type money (`4200`,
`4,200`, `$4,200.50`), checked by `base.validation.parse_money`; a mistake is shown under the
box and the dialog stays."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from ..base.errors import UserError
from ..base.validation import parse_money
from ..ui.display import money, visible


class ValuePrompt(ModalScreen[Decimal | None]):
    """Returns the value typed (above $0), or None when the user cancels (no move is made)."""

    CSS_PATH = "modal.tcss"
    DEFAULT_CLASSES = "dialog"
    DEFAULT_CSS = """
    #value-error { height: auto; color: $text-error; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Cancel the move", id="value.cancel"),
    ]

    def __init__(
        self, card_label: str, stage_name: str, *, amount: Decimal, estimated: bool
    ) -> None:
        super().__init__()
        self.card_label = card_label
        self.stage_name = stage_name
        self.amount = amount
        self.estimated = estimated

    def compose(self) -> ComposeResult:
        stage = visible(self.stage_name)
        if self.estimated:
            question = (
                f"Its value, {money(self.amount)}, is an estimate: confirm or correct it "
                f"before it counts as {stage}."
            )
            # What the box offers is the guess, to the cent, as a person would type it.
            offered = f"{self.amount:.2f}".removesuffix(".00")
        else:
            question = f"What did it sell for? It is at $0; {stage} needs its value."
            offered = ""
        with Vertical(classes="modal-box"):
            yield Static(
                Content.assemble(("Won: ", "bold"), visible(self.card_label)),
                classes="modal-title",
            )
            yield Static(Content(question))
            yield Input(
                value=offered, placeholder="Value, e.g. 4,200 or $4,200.50", id="value-input"
            )
            yield Static(id="value-error")
            yield Static(
                Content(f"enter to move to {stage} · esc to cancel the move"),
                classes="modal-hint",
            )

    @on(Input.Submitted, "#value-input")
    def _typed(self, event: Input.Submitted) -> None:
        try:
            value = parse_money(event.value)
            if value <= 0:
                raise UserError("a won deal needs a value above $0")
        except UserError as problem:
            self.query_one("#value-error", Static).update(Content(visible(str(problem))))
            return
        self.dismiss(value)
