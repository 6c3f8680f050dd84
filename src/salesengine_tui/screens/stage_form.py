"""A stage's settings in one form: name, probability, rotting days, follow-up rule. Each field
is checked by the same parser the domain uses, and the cursor goes to the wrong one. The form
closes once saved; if the save fails it stays as typed and says why."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Input, Label, Static

from ..base.errors import UserError
from ..deals import pipeline_admin
from ..ui.display import editable, visible
from .keys import bindings
from .saving_form import SavingForm


class StageForm(SavingForm[dict[str, str]]):
    CSS_PATH = "modal.tcss"
    ERROR_ID = "prompt-error"
    BINDINGS: ClassVar[list[BindingType]] = bindings(
        [
            ("escape", "dismiss", "Cancel", "stage.cancel", "Close without saving"),
            ("ctrl+s", "save", "Save", "stage.save", "Save the stage"),
        ]
    )
    FIELDS = (
        ("name", "Name", ""),
        ("probability", "Probability (%)", "0 to 100"),
        ("rotting_days", "Rotting after (days)", "blank: never"),
        ("follow_up_after_days", "Follow up after (days without activity)", "blank: no rule"),
    )

    def __init__(
        self, stage: pipeline_admin.StageSettings, save: Callable[[dict[str, str]], object]
    ) -> None:
        super().__init__(save)
        self.stage = stage

    def compose(self) -> ComposeResult:
        s = self.stage
        values = {
            "name": editable(s.name),  # editable: hidden characters left out
            "probability": str(s.probability),
            "rotting_days": str(s.rotting_days or ""),
            "follow_up_after_days": str(s.follow_up_after_days or ""),
        }
        with Vertical(classes="modal-box"):
            yield Static(
                Content.assemble(("Edit stage ", "bold"), visible(s.name)), classes="modal-title"
            )
            for key, label, placeholder in self.FIELDS:
                yield Label(label)
                yield Input(values[key], placeholder=placeholder, id=f"stage-{key}", max_length=60)
            yield Static(id="prompt-error")
            yield Static(
                Content("enter: next field · ctrl+s save · esc cancel"), classes="modal-hint"
            )

    def values(self) -> dict[str, str]:
        return {key: self.query_one(f"#stage-{key}", Input).value for key, _, _ in self.FIELDS}

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        keys = [key for key, _, _ in self.FIELDS]
        key = (event.input.id or "").removeprefix("stage-")
        if key == keys[-1]:
            self.action_save()
        else:
            self.query_one(f"#stage-{keys[keys.index(key) + 1]}", Input).focus()

    def action_save(self) -> None:
        v = self.values()
        checks: list[tuple[str, Callable[[], object]]] = [
            ("name", lambda: pipeline_admin.clean_name(v["name"])),
            ("probability", lambda: pipeline_admin.parse_percent(v["probability"])),
            ("rotting_days", lambda: pipeline_admin.parse_days(v["rotting_days"], "rotting after")),
            (
                "follow_up_after_days",
                lambda: pipeline_admin.parse_days(v["follow_up_after_days"], "follow up after"),
            ),
        ]
        for key, check in checks:  # field by field, so the cursor goes to the wrong one
            try:
                check()
            except UserError as error:
                self.query_one("#prompt-error", Static).update(Content(visible(str(error))))
                self.query_one(f"#stage-{key}", Input).focus()
                return
        self.submit(v)
