"""`m`: pick any stage of the pipeline for the selected card (Won and Lost included). The
highlight starts on the stage after the card's; ↑↓ or j/k move it, typing jumps to a stage by
name."""

from __future__ import annotations

import uuid
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ..deals.cards import Column
from ..ui.display import safe_text
from ..widgets.pick_list import PickList


class StagePicker(ModalScreen[uuid.UUID | None]):
    """Returns the chosen stage's id, or None on esc."""

    CSS_PATH = "modal.tcss"
    DEFAULT_CLASSES = "dialog"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Cancel", id="picker.cancel"),
    ]

    def __init__(self, card_label: str, stages: list[Column], current: uuid.UUID) -> None:
        super().__init__()
        self.card_label = card_label
        self.stages = stages
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box"):
            yield Static(
                Content.assemble(("Move ", "bold"), self.card_label, (" to…", "bold")),
                classes="modal-title",
            )
            options = []
            for stage in self.stages:
                kind = " · won" if stage.is_won else " · lost" if stage.is_lost else ""
                if kind and kind[3:] in stage.name.lower():
                    kind = ""  # "Won · won" says it twice
                here = stage.id == self.current
                label = Text.assemble(
                    safe_text(stage.name, style="bold" if not here else "dim"),
                    (f"{kind}  {stage.probability}%", "dim"),
                    (" · here now" if here else "", "dim italic"),
                )
                options.append(Option(label, id=str(stage.id), disabled=here))
            yield PickList(*options, id="stage-options")
            yield Static(
                Content("↑↓/jk move · type to jump · enter to move · esc to cancel"),
                classes="modal-hint",
            )

    def on_mount(self) -> None:
        options = self.query_one(PickList)
        ids = [stage.id for stage in self.stages]
        if self.current in ids:  # start on the stage after the current one
            options.highlighted = min(ids.index(self.current) + 1, len(ids) - 1)

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        assert event.option.id is not None
        self.dismiss(uuid.UUID(event.option.id))
