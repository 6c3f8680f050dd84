"""A one-line question: a name for a segment, or the recipient count typed to confirm a send.
`check` returns what is wrong with the answer (shown, the dialog stays) or None to accept.
Data in the title is shown, never obeyed; a `value` from data is loaded `editable` (its hidden
characters removed: what the box shows is what is saved)."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from ..ui.display import editable, visible


class TextPrompt(ModalScreen[str | None]):
    CSS_PATH = "modal.tcss"
    DEFAULT_CLASSES = "dialog"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Cancel", id="prompt.cancel"),
    ]

    def __init__(
        self,
        title: Content | str,
        *,
        value: str = "",
        placeholder: str = "",
        hint: str = "enter to accept · esc to cancel",
        check: Callable[[str], str | None] | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(title, Content):
            title = Content(visible(title))
        elif not title.plain.isprintable():  # a caller's slip: its styles give way to safety
            title = Content(visible(title.plain))
        self.title_content = title
        self.value, self.placeholder, self.hint = editable(value), placeholder, hint
        self.check = check

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box"):
            yield Static(self.title_content, classes="modal-title")
            yield Input(
                value=self.value, placeholder=self.placeholder, id="prompt-input", max_length=200
            )
            yield Static(id="prompt-error")
            yield Static(Content(self.hint), classes="modal-hint")

    @on(Input.Submitted, "#prompt-input")
    def _submit(self, event: Input.Submitted) -> None:
        problem = self.check(event.value) if self.check else None
        if problem:
            self.query_one("#prompt-error", Static).update(Content(visible(problem)))
            return
        self.dismiss(event.value)
