"""The right side of the Segments screen: how many customers match and the first of them, or,
with no conditions yet, all customers by lead source and the recent email blasts."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from zoneinfo import ZoneInfo

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static

from ..customers.status import SourceCounts, StatusSourceBreakdown
from ..marketing.blasts import BlastSummary
from ..marketing.segments import Member
from ..ui.display import number, plural, safe_text, visible
from .blast_outcome_text import LEGEND_IN_FULL, outcome_text
from .blast_outcome_text import widths as outcome_widths
from .safe_table import Column, SafeTable

COLUMNS = [
    Column("source", "Lead source"),
    Column("leads", "Leads", numeric=True),
    Column("active", "Active", numeric=True),
    Column("churned", "Churned", numeric=True),
    Column("total", "Total", numeric=True),
]
BLAST_COLUMNS = [
    Column("when", "Date"),
    Column("subject", "Subject"),
    Column("segment", "Segment"),
    Column("recipients", "To", numeric=True),
    Column("progress", "Sent/failed/waiting"),
    Column("outcomes", "What came back"),
]
# Narrower than these, a column says too little; 0: left out when there is no room for it,
# in the order of BLAST_LEAVE_OUT: the count (the progress adds up to it), the progress (the
# blast's own screen follows it while sending), the segment. The progress is shown whole or
# not at all (`1,240 / 0 /…` says nothing); the subject and segment are cut first. What came
# back stays (`✓1,204 ✗12 ⚑3 ⊘9` whole).
BLAST_FLOORS = [10, 12, 0, 0, 0, 17]
BLAST_WHOLE = (4,)
BLAST_LEAVE_OUT = (3, 4, 2)
OPTIONAL_WIDTH = 10  # an optional column is shown this wide at least, or not at all
PREVIEW_COLUMNS = [Column("name", "Name"), Column("email", "Email"), Column("status", "Status")]
PREVIEW_FLOORS = [10, 12, 7]
TOTAL_KEY = "__total__"


class ShrinkTable(SafeTable):
    """A SafeTable whose columns fit its width: each as wide as its widest cell, and when
    they do not all fit, the widest give up room first (never below `floors`); a cell cut to
    fit ends with "…". Refitted when the table's width changes."""

    def __init__(
        self,
        columns: Sequence[Column],
        floors: Sequence[int],
        *,
        whole: Collection[int] = (),
        leave_out: Sequence[int] | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(columns, id=id)
        self.floors = list(floors)
        self.whole = whole
        self.leave_out = leave_out
        self._rows: list[tuple[str, list[object]]] = []
        self._widths: list[int] = []

    def show(self, rows: Iterable[tuple[str, Sequence[object]]]) -> None:
        self._rows = [(key, [_cut(cell) for cell in cells]) for key, cells in rows]
        self._widths = []  # refit even at the same width: the cells changed
        self._refit()

    def set_columns(self, columns: Sequence[Column]) -> None:
        """As SafeTable's, with headings that end with "…" when cut too."""
        if not self.columns:
            for column in columns:
                justify = "right" if column.numeric else "left"
                label = Text(column.label, justify=justify, no_wrap=True, overflow="ellipsis")
                self.add_column(label, key=column.key, width=column.width)

    def on_resize(self) -> None:
        self._refit()

    def watch_show_vertical_scrollbar(self) -> None:
        # A scrollbar that came with the rows takes cells: fit again after this layout.
        self.call_after_refresh(self._refit)

    def _refit(self) -> None:
        room = self.scrollable_content_region.width
        natural = [len(c.label) for c in self._initial_columns]
        for _, cells in self._rows:
            natural = [max(w, _width(cell)) for w, cell in zip(natural, cells, strict=True)]
        widths = fit_widths(
            natural,
            self.floors,
            room,
            2 * self.cell_padding,
            whole=self.whole,
            leave_out=self.leave_out,
        )
        if widths == self._widths:
            return
        self._widths = widths
        columns = zip(self._initial_columns, widths, strict=True)
        self.clear(columns=True)
        self.set_columns([c._replace(width=w) for c, w in columns if w])
        # Rows without the cells of columns left out.
        super().replace_rows(
            (key, [cell for cell, w in zip(cells, widths, strict=True) if w])
            for key, cells in self._rows
        )


def fit_widths(
    natural: Sequence[int],
    floors: Sequence[int],
    room: int,
    pad: int = 0,
    *,
    whole: Collection[int] = (),
    leave_out: Sequence[int] | None = None,
) -> list[int]:
    """Column widths that fit `room` (each shown column also takes `pad` cells): the natural
    ones if they fit, else the widest cut down to one cap (the largest that fits), none
    below its floor. A floor of 0 marks a column that may be left out (width 0) when the
    others' floors leave it no room: in the order of `leave_out`, by default the last such
    column first. The columns in `whole` are never cut: shown whole or left out."""
    widths = list(natural)
    if sum(widths) + pad * len(widths) <= room:
        return widths
    least = [
        w if i in whole else min(w, f or OPTIONAL_WIDTH)
        for i, (w, f) in enumerate(zip(natural, floors, strict=True))
    ]
    optional = [i for i, f in enumerate(floors) if f == 0][::-1]
    for i in optional if leave_out is None else leave_out:
        if sum(least) + pad * sum(1 for w in least if w) <= room:
            break
        least[i] = 0  # left out
    shown = [i for i, w in enumerate(least) if w]
    space = room - pad * len(shown)

    def capped(i: int, cap: int) -> int:
        return natural[i] if i in whole else max(least[i], min(natural[i], cap))

    cap = max(natural)
    while cap > 0 and sum(capped(i, cap) for i in shown) > space:
        cap -= 1
    widths = [capped(i, cap) if i in shown else 0 for i in range(len(least))]
    # What the cap left over goes to the cut columns, the first first.
    spare = space - sum(widths)
    for i in shown:
        if spare > 0 and widths[i] < natural[i]:
            widths[i] += 1
            spare -= 1
    return widths


def _cut(cell: object) -> object:
    """A text cell that ends with "…" where its column is too narrow for it."""
    if isinstance(cell, Text):
        cell = cell.copy()
        cell.no_wrap, cell.overflow = True, "ellipsis"
    return cell


def _width(cell: object) -> int:
    return cell.cell_len if isinstance(cell, Text) else Text(str(cell)).cell_len


class SegmentResults(Vertical):
    def compose(self) -> ComposeResult:
        yield Static(id="segment-count")
        yield ShrinkTable(PREVIEW_COLUMNS, PREVIEW_FLOORS, id="segment-preview")
        yield SafeTable(COLUMNS, id="sources")
        yield Static(id="sources-note")
        yield Static(Content("Recent email blasts"), id="blasts-title")
        yield ShrinkTable(
            BLAST_COLUMNS, BLAST_FLOORS, whole=BLAST_WHOLE, leave_out=BLAST_LEAVE_OUT, id="blasts"
        )
        yield Static(Content(f"What came back: {LEGEND_IN_FULL}"), id="blasts-legend")

    def show_home(self, home: bool) -> None:
        """The home (sources and blasts) when there are no conditions, else the members."""
        self.query_one("#segment-preview", SafeTable).display = not home
        for selector in ("#sources", "#sources-note", "#blasts-title", "#blasts", "#blasts-legend"):
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
            (str(m.id), [safe_text(m.name), safe_text(m.email, empty="—"), safe_text(m.status)])
            for m in members
        ]
        # Widths fitted to the data and the room: a table shown after being hidden can
        # otherwise draw its header with widths from before the rows came.
        self.query_one("#segment-preview", ShrinkTable).show(rows)

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
        self.query_one("#blasts-legend", Static).display = bool(sent)
        blasts = self.query_one("#blasts", ShrinkTable)
        blasts.display = bool(sent)
        aligned = outcome_widths([b.outcomes for b in sent])
        blasts.show((str(b.id), _blast_cells(b, tz, aligned)) for b in sent)
        note = ""
        if breakdown.more_sources:
            note = f"{number(breakdown.more_sources)} smaller sources not listed (in the total)"
        self.query_one("#sources-note", Static).update(Content(note))

    def _count_line(self, content: Content) -> Static:
        count_line = self.query_one("#segment-count", Static)
        count_line.update(content)
        return count_line


def _blast_cells(b: BlastSummary, tz: ZoneInfo, aligned: Sequence[int]) -> list[object]:
    p = b.progress
    waiting = p.queued + p.sending
    return [
        safe_text(f"{b.created_at.astimezone(tz):%Y-%m-%d}"),
        safe_text(b.subject),
        safe_text(b.segment),
        safe_text(number(b.recipients), justify="right"),
        safe_text(f"{number(p.sent)} / {number(p.failed + p.suppressed)} / {number(waiting)}"),
        outcome_text(b.outcomes, aligned, compact=True),
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
