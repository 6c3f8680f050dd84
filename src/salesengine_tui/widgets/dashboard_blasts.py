"""The dashboard's "Recent blasts" cell: the last few blasts, two lines each (the day and
subject, then what came back: `✓ 1,204 ✗ 12 ⚑ 3 ⊘ 9`), a legend under them (two lines: the
marks fill the narrow column, then "— nothing yet"). Hidden while no blast was ever sent."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from rich.text import Text
from textual.content import Content
from textual.widgets import Static

from ..marketing.blasts import BlastSummary
from ..ui.display import safe_text
from .blast_outcome_text import LEGEND, NOTHING_YET, outcome_text, widths
from .dashboard_panels import Panel

RECENT_BLASTS = 3  # fits the panel at 120x40 beside my day, and stacked at 80x24


class BlastsPanel(Panel):
    def __init__(self) -> None:
        super().__init__(
            Static(id="blast-lines"),
            Static(Content(f"{LEGEND}\n{NOTHING_YET} nothing yet"), id="blast-legend"),
            title="Recent blasts",
            id="blasts-panel",
        )

    def show(self, sent: list[BlastSummary], tz: ZoneInfo) -> None:
        self.display = bool(sent)
        aligned = widths([b.outcomes for b in sent])
        lines = Text(end="")
        for i, blast in enumerate(sent):
            if i:
                lines.append("\n")
            day = blast.created_at.astimezone(tz)
            lines.append(f"{day:%m-%d} ", style="dim")
            lines.append_text(safe_text(blast.subject, style="bold"))
            lines.append("\n  ")
            lines.append_text(outcome_text(blast.outcomes, aligned))
        self.query_one("#blast-lines", Static).update(lines)
