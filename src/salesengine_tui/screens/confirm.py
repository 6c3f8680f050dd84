"""A yes/no question before an action that is hard to take back (opt a customer out of
email, mark every alert read). `y` or enter confirms, `n` or esc cancels. The title and body
are plain text: data in them is shown, never obeyed."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from ..ui.display import visible


class ConfirmDialog(ModalScreen[bool]):
    """Dismisses with True when confirmed; False on `n`/esc."""

    CSS_PATH = ["modal.tcss", "confirm.tcss"]
    DEFAULT_CLASSES = "dialog"  # centred, the screen behind dimmed (modal.tcss)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y,enter", "answer(True)", "Yes", id="confirm.yes", tooltip="Do it"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no", tooltip="Leave it as it is"),
    ]

    def __init__(self, title: str, body: str = "", *, yes: str = "Yes", no: str = "No") -> None:
        super().__init__()
        self.title_text, self.body, self.yes, self.no = title, body, yes, no

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box", id="confirm-box"):
            yield Static(Content(visible(self.title_text)), classes="modal-title")
            if self.body:
                yield Static(Content(visible(self.body)), id="confirm-body")
            hint = f"y / enter: {self.yes} · n / esc: {self.no}"
            yield Static(Content(hint), classes="modal-hint")

    def action_answer(self, confirmed: bool) -> None:
        self.dismiss(confirmed)
