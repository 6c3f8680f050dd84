"""The dashboard's panels: bordered boxes that each paint one part of the figures.

Top row: the open stages (`StagesPanel`; or, toggled, the forecast by expected close month)
beside won and lost (`OutcomesPanel`); middle: the
rotting deals beside the funnel (`FunnelPanel`); bottom: the team feed beside my day. The three
lists are `CustomerList`s in a `ListPanel`: their rows are about a customer, whom `enter` opens.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static

from ..deals.figures import CloseBucket, CloseMonth, PipelineFigures
from ..ui.display import money, number, plural, short_money, visible
from .charts import BarRow, BarTable, Funnel, Sparkline
from .dashboard_cells import STAGE_HEADINGS, funnel_rows, outcomes_text, stage_rows
from .safe_table import Column, FitTable

ACTIVITY_COLUMNS = [
    Column("when", "When", width=11),
    Column("what", "What", width=13),
    Column("customer", "Customer", width=17),
    Column("detail", "Detail", width=20),
    Column("by", "By", width=2),
]
ROTTING_COLUMNS = [
    Column("customer", "Customer", width=18),
    Column("deal", "Deal", width=16),
    Column("stage", "Stage", width=11),
    Column("over", "Over", width=5, numeric=True),
    Column("value", "Value", width=8, numeric=True),
    Column("owner", "By", width=2),
]
DUE_COLUMNS = [
    Column("due", "Due", width=7),
    Column("customer", "Customer", width=13),
    Column("what", "What", width=15),
]


class CustomerList(FitTable):
    """A dashboard list whose rows are about a customer: `enter` opens them."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "select_cursor",
            "Open",
            id="dashboard.open",
            tooltip="The customer's profile and timeline",
            show=True,
        ),
    ]

    def __init__(self, columns: list[Column], *, flex: str, id: str) -> None:
        super().__init__(columns, flex=flex, id=id)
        self.customers: dict[str, uuid.UUID] = {}  # row key -> the customer it is about

    def customer_at(self, row_key: str) -> uuid.UUID | None:
        return self.customers.get(row_key)


class Panel(Vertical):
    """A bordered box with a title (data in titles is shown literally)."""

    def __init__(self, *children: Widget, title: str, id: str) -> None:
        super().__init__(*children, id=id, classes="panel")
        self.border_title = Content(title)

    def retitle(self, *parts: str) -> None:
        self.border_title = Content(" · ".join(visible(part) for part in parts if part))


CLOSE_HEADINGS = ("Expected close", "Deals", "Value", "Weighted")


def close_label(month: CloseMonth, first: bool) -> str:
    if month.bucket is CloseBucket.overdue:
        return "Overdue date"
    if month.bucket is CloseBucket.later:
        return "Later"
    if month.bucket is CloseBucket.undated:
        return "No close date"
    assert month.month is not None
    return f"{month.month:%b %Y}" + (" (this)" if first else "")


def close_month_rows(months: list[CloseMonth]) -> list[BarRow]:
    """The forecast by expected close month: a row a bucket (bars of weighted value), then
    the open total."""
    top = max((m.weighted for m in months), default=0) or 1
    rows = []
    this_month = next((m.month for m in months if m.bucket is CloseBucket.month), None)
    for m in months:
        rows.append(
            BarRow(
                close_label(m, m.month is not None and m.month == this_month),
                (number(m.count), money(m.value), money(m.weighted)),
                float(m.weighted / top),
                emphasis="muted" if m.count == 0 else "",
            )
        )
    rows.append(
        BarRow(
            "Open",
            (
                number(sum(m.count for m in months)),
                money(sum(m.value for m in months)),
                money(sum(m.weighted for m in months)),
            ),
            None,
            emphasis="total",
        )
    )
    return rows


class StagesPanel(Panel):
    """The open stages now: count, value, weighted forecast, rotting, a bar of value; or
    (`by_close_month`, the dashboard's `f`) the same open deals by expected close month."""

    def __init__(self) -> None:
        super().__init__(BarTable(id="stages"), title="Pipeline", id="stages-panel")
        self.by_close_month = False

    def show(self, shown: PipelineFigures | None) -> None:
        stages = self.query_one("#stages", BarTable)
        if shown is None:
            stages.show((), [])
            return
        if self.by_close_month and shown.close_months is not None:
            self.retitle(shown.pipeline.name, "open deals by expected close month")
            stages.show(CLOSE_HEADINGS, close_month_rows(shown.close_months))
            return
        self.retitle(shown.pipeline.name, "open deals now")
        stages.show(STAGE_HEADINGS, stage_rows(shown))


class OutcomesPanel(Panel):
    """Won and lost in the window: win rate, days to close, and won value per week."""

    def __init__(self) -> None:
        super().__init__(
            Static(id="outcomes"),
            Static(id="weekly-title"),
            Sparkline(id="weekly"),
            title="Won and lost",
            id="outcomes-panel",
        )

    def show(self, shown: PipelineFigures | None) -> None:
        outcomes = self.query_one("#outcomes", Static)
        title = self.query_one("#weekly-title", Static)
        sparkline = self.query_one("#weekly", Sparkline)
        if shown is None:
            outcomes.update("")
            title.update("")
            sparkline.show([])
            return
        won = shown.outcomes
        self.retitle(f"Won and lost · {won.days} days")
        outcomes.update(outcomes_text(won))
        weekly = shown.weekly_won
        best = max(weekly, key=lambda w: w.value, default=None)
        title.update(
            Content.assemble(
                ("Won per week", "bold"),
                f" · best {short_money(best.value)}" if best is not None and best.value > 0 else "",
            )
        )
        sparkline.show(
            [float(w.value) for w in weekly],
            left=f"{weekly[0].week:%b %-d}" if weekly else "",
            right=f"this week {short_money(weekly[-1].value)}" if weekly else "",
        )


class FunnelPanel(Panel):
    """How far each deal decided in the window got."""

    def __init__(self) -> None:
        super().__init__(
            Funnel(id="funnel"), Static(id="funnel-note"), title="Funnel", id="funnel-panel"
        )

    def show(self, shown: PipelineFigures | None) -> None:
        funnel = self.query_one("#funnel", Funnel)
        note = self.query_one("#funnel-note", Static)
        if shown is None:
            note.update("")
            funnel.show([])
            return
        won = shown.outcomes
        self.retitle(f"Funnel · {won.days} days")
        funnel.show(funnel_rows(shown.funnel))
        note.update(
            Content(
                f"{plural(won.decided, 'decided deal')}, how far each got"
                if won.decided
                else "no deal won or lost in this window yet"
            )
        )


class ListPanel(Panel):
    """A CustomerList in a box; when the list is empty, the box's bottom border says so."""

    def __init__(
        self, columns: list[Column], *, flex: str, list_id: str, title: str, empty: str
    ) -> None:
        super().__init__(
            CustomerList(columns, flex=flex, id=list_id), title=title, id=f"{list_id}-panel"
        )
        self.empty = empty

    def fill(
        self, rows: Iterable[tuple[str, list[object]]], customers: dict[str, uuid.UUID]
    ) -> None:
        """Swap in fresh rows (the cursor stays on its item); `customers`: row key -> customer."""
        table = self.query_one(CustomerList)
        table.customers = customers
        table.replace_rows(rows, follow=True)
        self.border_subtitle = None if customers else Content(self.empty)
