"""Marketing > Segments: who the customers are, by lead source and status.

The segment builder (filters, saved segments, email blasts) grows from here.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import Static

from .. import customers
from ..display import number, plural, safe_text
from ..widgets.safe_table import Column, SafeTable
from .base import SectionScreen
from .messages import SegmentsLoaded
from .sections import SEGMENTS

COLUMNS = [
    Column("source", "Lead source"),
    Column("leads", "Leads", numeric=True),
    Column("active", "Active", numeric=True),
    Column("churned", "Churned", numeric=True),
    Column("total", "Total", numeric=True),
]
TOTAL_KEY = "__total__"


class SegmentsScreen(SectionScreen):
    SECTION = SEGMENTS
    CSS_PATH = "segments.tcss"

    def compose_body(self) -> ComposeResult:
        yield SafeTable(COLUMNS, id="sources")
        yield Static(id="sources-note")

    def reload(self) -> None:
        self.set_loading(True)
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="segments-load")
    def _load(self) -> None:
        with self.session() as session:
            breakdown = customers.status_source_breakdown(session)
        self.deliver(SegmentsLoaded(breakdown=breakdown))

    @on(SegmentsLoaded)
    def _show(self, message: SegmentsLoaded) -> None:
        message.stop()
        breakdown = message.breakdown
        rows = [(f"source:{i}", _cells(s)) for i, s in enumerate(breakdown.sources)]
        rows.append((TOTAL_KEY, _cells(breakdown.all_customers, label="All customers")))
        self.query_one("#sources", SafeTable).replace_rows(rows)
        self.set_loading(False)
        self.set_title_detail(f"{plural(breakdown.all_customers.total, 'customer')} by lead source")
        note = ""
        if breakdown.more_sources:
            note = f"{number(breakdown.more_sources)} smaller sources not listed (in the total)"
        self.query_one("#sources-note", Static).update(Content(note))


def _cells(counts: customers.SourceCounts, *, label: str | None = None) -> list[object]:
    style = "bold" if label else ""
    name = (
        safe_text(label, style="bold")
        if label
        else safe_text(counts.lead_source, empty="(no source)")
    )
    return [
        name,
        *(
            safe_text(number(n), style=style, justify="right")
            for n in (counts.leads, counts.active, counts.churned, counts.total)
        ),
    ]
