"""Modal forms that keep what was typed until it is saved.

A form checks its fields, then `submit(result)` runs its `save` (a desk call, given by the
screen that opened it) in a worker. Only once the save succeeded does the form close, with
`result`, and its opener shows what happened. When the save fails (the database went away, a
rule refused it, someone else saved first) the form stays as it was typed, says why (under its
fields where it has a line for it, and in a toast), and saving again tries again. One save runs
at a time; esc while one runs waits for its answer rather than leave its outcome unknown."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import ClassVar, Generic, TypeVar

from textual import on
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Static

from ..ui.display import visible
from .base import describe_error

ResultT = TypeVar("ResultT")


@dataclass
class SaveFailed(Message):
    reason: str  # one line, for a person


@dataclass
class SaveDone(Message):
    result: object  # what the form closes with
    value: object  # what the save returned


class SavingForm(ModalScreen[ResultT | None], Generic[ResultT]):
    DEFAULT_CLASSES = "dialog"  # centred, the screen behind dimmed (modal.tcss)
    # A Static under the fields that shows why a save failed (None: the toast alone).
    ERROR_ID: ClassVar[str | None] = None

    def __init__(self, save: Callable[[ResultT], object]) -> None:
        super().__init__()
        self.save = save
        self.saving = False

    def submit(self, result: ResultT) -> None:
        """Save `result` in a worker; the form closes with it once saved."""
        if self.saving:  # a second ctrl+s or enter while the first is on its way
            return
        self.saving = True
        self.run_worker(
            partial(self._save_in_thread, result),
            thread=True,
            exit_on_error=False,
            group="form-save",
        )

    def _save_in_thread(self, result: ResultT) -> None:
        try:
            value = self.save(result)
        except Exception as error:  # whatever it was, the form keeps what was typed
            ctx = self.app.ctx  # type: ignore[attr-defined]
            self.post_message(SaveFailed(describe_error(error, ctx)))
            return
        self.post_message(SaveDone(result, value))

    @on(SaveDone)
    def _save_done(self, message: SaveDone) -> None:
        message.stop()
        self.saving = False
        self.saved(message.result, message.value)  # type: ignore[arg-type]

    def saved(self, result: ResultT, value: object) -> None:
        """The save succeeded: close with `result` (forms with a second step override this)."""
        self.dismiss(result)

    @on(SaveFailed)
    def _save_failed(self, message: SaveFailed) -> None:
        message.stop()
        self.saving = False
        self.show_error(f"Not saved: {message.reason}")
        self.notify(
            f"{message.reason.rstrip('.')}. What you typed is kept: save again to retry, "
            "esc to discard.",
            title="Not saved",
            severity="error",
            timeout=10,
            markup=False,
        )

    def show_error(self, text: str) -> None:
        if self.ERROR_ID is not None:
            self.query_one(f"#{self.ERROR_ID}", Static).update(Content(visible(text)))

    def refuse(self, text: str, field: str) -> None:
        """A field is wrong: say why (naming the field) and put the cursor on it (`field`: a
        selector). Every form checks its fields this way before it saves."""
        self.show_error(text)
        self.query_one(field).focus()

    async def action_dismiss(self, result: ResultT | None = None) -> None:
        if self.saving:
            self.notify(
                "Saving: the form closes when the database answers", severity="warning", timeout=3
            )
            return
        await super().action_dismiss(result)
