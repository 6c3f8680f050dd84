"""A pipeline's stages as a table (pipeline settings): position, name, kind, probability,
rotting and follow-up rules, and how many deals each holds."""

from __future__ import annotations

import uuid

from rich.text import Text

from ..deals.pipeline_admin import StageSettings
from ..ui.display import number, safe_text
from .safe_table import Column, SafeTable

COLUMNS = [
    Column("position", "#", numeric=True),
    Column("name", "Stage"),
    Column("kind", "Kind"),
    Column("probability", "Prob.", numeric=True),
    Column("rotting", "Rots after"),
    Column("follow_up", "Follow-up"),
    Column("estimates", "Deals", numeric=True),
]


def _days(value: int | None) -> Text:
    return safe_text(f"{value} days" if value else None, empty="never")


class StagesTable(SafeTable):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(COLUMNS, id=id)
        self.stages: list[StageSettings] = []

    def show(self, stages: list[StageSettings], focus: uuid.UUID | None = None) -> None:
        """Show `stages`, the cursor on `focus` when it is one of them (else where it was)."""
        self.stages = stages
        self.replace_rows(
            (
                str(s.id),
                [
                    safe_text(str(i), justify="right"),
                    safe_text(s.name),
                    s.kind,
                    safe_text(f"{s.probability}%", justify="right"),
                    _days(s.rotting_days),
                    _days(s.follow_up_after_days),
                    safe_text(number(s.estimates), justify="right"),
                ],
            )
            for i, s in enumerate(stages, 1)
        )
        ids = [s.id for s in stages]
        if focus is not None and focus in ids:
            self.move_cursor(row=ids.index(focus))

    @property
    def current(self) -> StageSettings | None:
        """The stage under the cursor (None: no stages)."""
        if not self.stages or self.cursor_row is None:
            return None
        return self.stages[min(self.cursor_row, len(self.stages) - 1)]
