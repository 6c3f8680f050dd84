"""The right side of the Segments screen: how many customers match and the first of them, or,
with no conditions yet, all customers by lead source and the recent email blasts."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static

from ..customers.status import SourceCounts, StatusSourceBreakdown
from ..marketing.blasts import BlastSummary
from ..marketing.segments import Member
from ..ui.display import local_datetime, number, plural, safe_text, visible
from .safe_table import Column, SafeTable

COLUMNS = [
    Column("source", "Lead source"),
    Column("leads", "Leads", numeric=True),
    Column("active", "Active", numeric=True),
    Column("churned", "Churned", numeric=True),
    Column("total", "Total", numeric=True),
]
BLAST_COLUMNS = [
    Column("when", "Sent"),
    Column("subject", "Subject", width=34),
    Column("segment", "Segment", width=28),
    Column("recipients", "To", numeric=True),
    Column("progress", "Sent / failed / waiting"),
]
PREVIEW_COLUMNS = [Column("name", "Name"), Column("email", "Email"), Column("status", "Status")]
TOTAL_KEY = "__total__"


class SegmentResults(Vertical):
    def compose(self) -> ComposeResult:
        yield Static(id="segment-count")
        yield SafeTable(PREVIEW_COLUMNS, id="segment-preview")
        yield SafeTable(COLUMNS, id="sources")
        yield Static(id="sources-note")
        yield Static(Content("Recent email blasts"), id="blasts-title")
        yield SafeTable(BLAST_COLUMNS, id="blasts")

    def show_home(self, home: bool) -> None:
        """The home (sources and blasts) when there are no conditions, else the members."""
        self.query_one("#segment-preview", SafeTable).display = not home
        for selector in ("#sources", "#sources-note", "#blasts-title", "#blasts"):
            self.query_one(selector).display = home
        if home:
            self._count_line(Content("All customers, by lead source"))
        else:
            self._count_line(Content("counting…"))

    def show_count(self, total: int, members: list[Member], elapsed: float) -> None:
        shown = len(members)
        more = f" · first {shown} shown" if total > shown else ""
        count_line = self._count_line(
            Content.assemble((f"{plural(total, 'customer')} match", "bold"), (more, "dim"))
        )
        count_line.tooltip = f"counted in {elapsed * 1000:,.0f} ms"
        rows = [
            (str(m.id), [safe_text(m.name), safe_text(m.email, empty="—"), m.status])
            for m in members
        ]
        preview = self.query_one("#segment-preview", SafeTable)
        # Widths fixed from the data: a table shown after being hidden can otherwise draw its
        # header with widths from before the rows came.
        preview.clear(columns=True)
        preview.set_columns(_fitted(PREVIEW_COLUMNS, [cells for _, cells in rows]))
        preview.replace_rows(rows)

    def show_failed(self, error: str) -> None:
        """The count failed: say why, and leave no members of an earlier count on show."""
        line = self._count_line(
            Content.assemble(("Could not count: ", "bold $text-error"), visible(error))
        )
        line.tooltip = None
        self.query_one("#segment-preview", SafeTable).clear()

    def show_sources(
        self, breakdown: StatusSourceBreakdown, sent: list[BlastSummary], tz: ZoneInfo
    ) -> None:
        rows = [(f"source:{i}", _cells(s)) for i, s in enumerate(breakdown.sources)]
        rows.append((TOTAL_KEY, _cells(breakdown.all_customers, label="All customers")))
        sources = self.query_one("#sources", SafeTable)
        sources.replace_rows(rows)
        sources.refresh(layout=True)  # see show_count
        self.query_one("#blasts-title", Static).display = bool(sent)
        self.query_one("#blasts", SafeTable).display = bool(sent)
        self.query_one("#blasts", SafeTable).replace_rows(
            (str(b.id), _blast_cells(b, tz)) for b in sent
        )
        note = ""
        if breakdown.more_sources:
            note = f"{number(breakdown.more_sources)} smaller sources not listed (in the total)"
        self.query_one("#sources-note", Static).update(Content(note))

    def _count_line(self, content: Content) -> Static:
        count_line = self.query_one("#segment-count", Static)
        count_line.update(content)
        return count_line


def _fitted(columns: list[Column], rows: list[list[object]], most: int = 32) -> list[Column]:
    """Each column as wide as its widest cell or label, up to `most` (longer cells are cut)."""
    widths = [len(c.label) for c in columns]
    for cells in rows:
        for i, cell in enumerate(cells):
            widths[i] = max(widths[i], Text(str(cell)).cell_len)
    return [c._replace(width=min(w, most)) for c, w in zip(columns, widths, strict=True)]


def _blast_cells(b: BlastSummary, tz: ZoneInfo) -> list[object]:
    p = b.progress
    waiting = p.queued + p.sending
    return [
        safe_text(local_datetime(b.created_at, tz)),
        safe_text(b.subject),
        safe_text(b.segment),
        safe_text(number(b.recipients), justify="right"),
        safe_text(f"{number(p.sent)} / {number(p.failed + p.suppressed)} / {number(waiting)}"),
    ]


def _cells(counts: SourceCounts, *, label: str | None = None) -> list[object]:
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
