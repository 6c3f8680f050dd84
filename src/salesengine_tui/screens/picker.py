"""A small modal list to pick one of a few choices (an owner, a filter): ↑↓ or j/k move, typing
jumps to the first choice that starts with (else contains) what is typed; esc picks nothing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Generic, TypeVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ..ui.display import shown_text, visible
from ..widgets.pick_list import PickList

V = TypeVar("V")
HINT = "↑↓/jk move · type to jump · enter to choose · esc to cancel"


class Picker(ModalScreen[V | None], Generic[V]):
    """`choices` are (label, value); labels are Text (data shown literally). Title and labels
    go through `display` here too: whatever a caller put in them is shown, never obeyed."""

    CSS_PATH = "modal.tcss"
    DEFAULT_CLASSES = "dialog"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Cancel", id="picker.cancel"),
    ]

    def __init__(self, title: str, choices: Sequence[tuple[Text, V]], hint: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.choices = list(choices)
        self.hint = hint or HINT

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box"):
            yield Static(Content(visible(self.title_text)), classes="modal-title")
            yield PickList(
                *(
                    Option(shown_text(label), id=str(i))
                    for i, (label, _) in enumerate(self.choices)
                ),
                id="picker-options",
            )
            yield Static(Content(self.hint), classes="modal-hint")

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        assert event.option.id is not None
        self.dismiss(self.choices[int(event.option.id)][1])
