"""A stage's settings in one form: name, probability, rotting days, follow-up rule, one line
each (it fits 80x24). Each field is checked by the same parser the domain uses, and the cursor
goes to the wrong one. The form closes once saved; if the save fails it stays as typed and
says why."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual.binding import BindingType
from textual.content import Content

from ..base.errors import UserError
from ..deals import pipeline_admin
from ..ui.display import editable, visible
from .fields_form import FieldsForm
from .keys import bindings


class StageForm(FieldsForm[dict[str, str]]):
    PREFIX = "stage"
    MAX_LENGTH = 60
    BINDINGS: ClassVar[list[BindingType]] = bindings(
        [
            ("escape", "dismiss", "Cancel", "stage.cancel", "Close without saving"),
            ("ctrl+s", "save", "Save", "stage.save", "Save the stage"),
        ]
    )
    FIELDS = (
        ("name", "Name"),
        ("probability", "Probability %"),
        ("rotting_days", "Rots after"),
        ("follow_up_after_days", "Follow up after"),
    )
    PLACEHOLDERS: ClassVar[dict[str, str]] = {
        "probability": "0 to 100",
        "rotting_days": "days in the stage; blank: never",
        "follow_up_after_days": "days without activity; blank: no rule",
    }

    def __init__(
        self, stage: pipeline_admin.StageSettings, save: Callable[[dict[str, str]], object]
    ) -> None:
        super().__init__(save)
        self.stage = stage

    def heading(self) -> Content:
        return Content.assemble(("Edit stage ", "bold"), visible(self.stage.name))

    def start(self, key: str) -> str:
        s = self.stage
        return {
            "name": editable(s.name),  # editable: hidden characters left out
            "probability": str(s.probability),
            "rotting_days": str(s.rotting_days or ""),
            "follow_up_after_days": str(s.follow_up_after_days or ""),
        }[key]

    def placeholder(self, key: str) -> str:
        return self.PLACEHOLDERS.get(key, "")

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
                self.refuse(str(error), f"#stage-{key}")
                return
        self.submit(v)
