"""A form of one-line text fields, each with its label beside it (so it fits 80x24): the
contact forms and a stage's settings. The first field has the cursor from the start; enter
moves to the next field and saves on the last; ctrl+s saves from anywhere. Subclasses check
the fields in `action_save` (`refuse` names the wrong one and puts the cursor there) and close
through `submit` (`SavingForm`: it stays open as typed when the save fails)."""

from __future__ import annotations

from typing import ClassVar, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.suggester import Suggester
from textual.widgets import Input, Label, Static

from .saving_form import SavingForm

HINT = "enter: next field · ctrl+s save · esc cancel"

ResultT = TypeVar("ResultT")


class FieldsForm(SavingForm[ResultT]):
    """Subclasses name their `FIELDS` (key, label) in order and say what the form is called
    (`heading`); each field is an `Input` with id `{PREFIX}-{key}`."""

    CSS_PATH = "modal.tcss"
    # What is typed at once lands in the first field (its scroll box took the keys: issue 16).
    AUTO_FOCUS = ".form-row Input"
    ERROR_ID = "prompt-error"
    PREFIX: ClassVar[str]
    FIELDS: ClassVar[tuple[tuple[str, str], ...]]
    MAX_LENGTH: ClassVar[int] = 300

    def heading(self) -> Content:
        raise NotImplementedError

    def start(self, key: str) -> str:
        """What field `key` holds when the form opens (editable text)."""
        return ""

    def placeholder(self, key: str) -> str:
        return ""

    def suggester(self, key: str) -> Suggester | None:
        return None

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box", id=f"{self.PREFIX}-box"):
            yield Static(self.heading(), classes="modal-title")
            for key, label in self.FIELDS:
                with Horizontal(classes="form-row"):
                    yield Label(label, classes="form-label")
                    yield Input(
                        self.start(key),
                        placeholder=self.placeholder(key),
                        id=f"{self.PREFIX}-{key}",
                        max_length=self.MAX_LENGTH,
                        suggester=self.suggester(key),
                    )
            yield Static(id=self.ERROR_ID, classes="form-error")
            yield Static(Content(HINT), classes="modal-hint")

    def field(self, key: str) -> Input:
        return self.query_one(f"#{self.PREFIX}-{key}", Input)

    def values(self) -> dict[str, str]:
        return {key: self.field(key).value for key, _ in self.FIELDS}

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        keys = [key for key, _ in self.FIELDS]
        key = (event.input.id or "").removeprefix(f"{self.PREFIX}-")
        if key == keys[-1]:
            self.action_save()
        else:
            self.field(keys[keys.index(key) + 1]).focus()

    def action_save(self) -> None:
        raise NotImplementedError
