"""Dashboard: one pipeline's figures, what is due for me today, and the team's activity, live.

Top: the open stages (count, value, weighted forecast, rotting; bars of value) beside won and
lost in the last 90 days (win rate, days to close, a sparkline of won value per week). Middle:
the most overdue deals beside the funnel of the window's decided deals. Bottom: the activity
feed beside my next steps and rotting deals. Every figure is an SQL aggregate
(`dashboard_figures`), loaded in a worker; `enter` on a feed item, a rotting deal or a due item
opens that customer. Changes made in other terminals arrive by LISTEN/NOTIFY and repaint the
dashboard at most about once a second, every list's cursor staying on its item.

Narrow or short terminals get the panels one under another, scrolling.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterable
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static

from .. import activity, board, live, pipeline
from .. import dashboard_figures as figures
from ..context import AppContext
from ..display import (
    local_datetime,
    money,
    number,
    plural,
    safe_text,
    short_money,
    visible,
)
from ..widgets.charts import BarRow, BarTable, Funnel, FunnelRow, Sparkline, hbar
from ..widgets.safe_table import Column, FitTable, SafeTable
from .base import SectionScreen
from .commands import PaletteCommand
from .customer import CustomerScreen
from .keys import bindings
from .messages import DashboardChanged, DashboardLoaded
from .sections import DASHBOARD

# Below this size the panels stack (one column, scrolling) instead of sharing the screen.
WIDE_ENOUGH = 110
TALL_ENOUGH = 34
# A burst of changes elsewhere repaints once, and never more often than about once a second.
LIVE_DELAY = 0.25
LIVE_MIN_INTERVAL = 1.0
LIVE_CHANNELS = (board.BOARD_CHANNEL, activity.ACTIVITY_CHANNEL, activity.UPSELL_CHANNEL)

_KEYS: list[tuple[str, str, str, str, str, bool]] = [
    ("p", "next_pipeline", "Pipeline", "dashboard.pipeline", "Show the next pipeline", True),
]
_LIST_KEYS: list[tuple[str, str, str, str, str, bool]] = [
    (
        "enter",
        "select_cursor",
        "Open",
        "dashboard.open",
        "The customer's profile and timeline",
        True,
    ),
]

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


# What an empty list says (in its box's bottom border).
_EMPTY = {
    "rotting": "no deal is rotting",
    "due": "nothing due today",
    "activity": "no activity yet",
}


class CustomerList(FitTable):
    """A dashboard list whose rows are about a customer: `enter` opens them."""

    BINDINGS: ClassVar[list[BindingType]] = list(bindings(_LIST_KEYS))


class Panel(Vertical):
    """A bordered box with a title (data in titles is shown literally)."""

    def __init__(self, *children: Widget, title: str, id: str) -> None:
        super().__init__(*children, id=id, classes="panel")
        self.border_title = Content(title)

    def retitle(self, *parts: str) -> None:
        self.border_title = Content(" · ".join(visible(part) for part in parts if part))


class DashboardScreen(SectionScreen):
    SECTION = DASHBOARD
    CSS_PATH = "dashboard.tcss"
    AUTO_FOCUS = None  # the feed, or when stacked the page itself (see `on_mount`)
    BINDINGS: ClassVar[list[BindingType]] = list(bindings(_KEYS))

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self.pipeline_id: uuid.UUID | None = None
        self.dashboard: figures.Dashboard | None = None
        # row key -> customer, for each list
        self.customers: dict[str, dict[str, uuid.UUID]] = {}
        self._stop_listening = threading.Event()
        self._live_pending = False
        self._live_stale = False  # a change arrived while another section was on screen
        self._last_live = 0.0

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="dash"):
            with Horizontal(classes="row", id="row-top"):
                yield Panel(BarTable(id="stages"), title="Pipeline", id="stages-panel")
                yield Panel(
                    Static(id="outcomes"),
                    Static(id="weekly-title"),
                    Sparkline(id="weekly"),
                    title="Won and lost",
                    id="outcomes-panel",
                )
            with Horizontal(classes="row", id="row-middle"):
                yield Panel(
                    CustomerList(ROTTING_COLUMNS, flex="deal", id="rotting"),
                    title="Rotting deals",
                    id="rotting-panel",
                )
                yield Panel(
                    Funnel(id="funnel"),
                    Static(id="funnel-note"),
                    title="Funnel",
                    id="funnel-panel",
                )
            with Horizontal(classes="row", id="row-bottom"):
                yield Panel(
                    CustomerList(ACTIVITY_COLUMNS, flex="detail", id="activity"),
                    title="Activity",
                    id="activity-panel",
                )
                yield Panel(
                    CustomerList(DUE_COLUMNS, flex="what", id="due"),
                    title="My day",
                    id="due-panel",
                )

    def on_mount(self) -> None:
        if self.ctx.settings.live_updates:
            self._listen()
        self._fit(self.size.width, self.size.height)
        # Wide: the feed has the keys. Stacked: the page scrolls first (tab reaches the lists),
        # so the cursor is never on a list out of sight.
        self.set_focus(self.query_one("#dash" if self.has_class("-stacked") else "#activity"))
        self.reload()

    def on_unmount(self) -> None:
        self._stop_listening.set()

    def on_resize(self) -> None:
        self._fit(self.size.width, self.size.height)

    def _fit(self, width: int, height: int) -> None:
        stacked = width < WIDE_ENOUGH or height < TALL_ENOUGH
        self.set_class(stacked, "-stacked")
        # Stacked, the page itself takes the focus to scroll; side by side it has nothing to
        # scroll, and tab goes from list to list.
        self.query_one("#dash", VerticalScroll).can_focus = stacked

    def on_screen_resume(self) -> None:
        if self._live_stale:
            self._live_stale = False
            self._load(self.pipeline_id)

    # --- loading ------------------------------------------------------------------------

    def reload(self) -> None:
        self.set_loading(True)
        self._load(self.pipeline_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="dashboard-load")
    def _load(self, pipeline_id: uuid.UUID | None) -> None:
        loaded = figures.load(
            self.session,
            pipeline_id=pipeline_id,
            user_id=self.ctx.actor.id,
            now=self.ctx.clock.now(),
            tz=self.tz,
        )
        self.deliver(DashboardLoaded(loaded))

    @on(DashboardLoaded)
    def _show(self, message: DashboardLoaded) -> None:
        message.stop()
        dashboard = self.dashboard = message.dashboard
        shown = dashboard.figures
        self.pipeline_id = shown.pipeline.id if shown else None
        self._show_pipeline(dashboard)
        self._show_due(dashboard.due)
        self._show_activity(dashboard.activity)
        self.set_loading(False)
        self.refresh_bindings()  # a list's keys were hidden from the footer while it loaded
        details = [f"as of {local_datetime(dashboard.as_of, self.tz)}"]
        if shown is not None and len(dashboard.pipelines) > 1:
            position = [p.id for p in dashboard.pipelines].index(shown.pipeline.id) + 1
            details.append(f"{shown.pipeline.name} ({position} of {len(dashboard.pipelines)})")
        elif shown is not None:
            details.append(shown.pipeline.name)
        else:
            details.append("no pipelines yet")
        if self.ctx.settings.live_updates:
            details.append("live")
        self.set_title_detail(*details)

    def _show_pipeline(self, dashboard: figures.Dashboard) -> None:
        shown = dashboard.figures
        stages = self.query_one("#stages", BarTable)
        if shown is None:
            stages.show((), [])
            for name in ("#outcomes", "#weekly-title", "#funnel-note"):
                self.query_one(name, Static).update("")
            self.query_one("#weekly", Sparkline).show([])
            self.query_one("#funnel", Funnel).show([])
            self._fill("rotting", [], {})
            return
        name = shown.pipeline.name
        self.query_one("#stages-panel", Panel).retitle(name, "open deals now")
        stages.show(("Stage", "Deals", "Value", "Weighted", "Rotting"), _stage_rows(shown))
        won = shown.outcomes
        self.query_one("#outcomes-panel", Panel).retitle(f"Won and lost · {won.days} days")
        self.query_one("#outcomes", Static).update(_outcomes_text(won))
        weekly = shown.weekly_won
        best = max(weekly, key=lambda w: w.value, default=None)
        self.query_one("#weekly-title", Static).update(
            Content.assemble(
                ("Won per week", "bold"),
                f" · best {short_money(best.value)}" if best is not None and best.value > 0 else "",
            )
        )
        self.query_one("#weekly", Sparkline).show(
            [float(w.value) for w in weekly],
            left=f"{weekly[0].week:%b %-d}" if weekly else "",
            right=f"this week {short_money(weekly[-1].value)}" if weekly else "",
        )
        self.query_one("#funnel-panel", Panel).retitle(f"Funnel · {won.days} days")
        self.query_one("#funnel", Funnel).show(_funnel_rows(shown.funnel))
        self.query_one("#funnel-note", Static).update(
            Content(
                f"{plural(won.decided, 'decided deal')}, how far each got"
                if won.decided
                else "no deal won or lost in this window yet"
            )
        )
        self.query_one("#rotting-panel", Panel).retitle(
            f"Rotting deals · {number(shown.rotting_count)}",
            "most overdue first" if shown.rotting else "",
        )
        self._fill(
            "rotting",
            ((str(d.estimate_id), self._rotting_cells(d)) for d in shown.rotting),
            {str(d.estimate_id): d.customer_id for d in shown.rotting},
        )

    def _show_due(self, due: figures.Due) -> None:
        self.query_one("#due-panel", Panel).retitle(
            "My day", plural(due.next_steps, "step"), f"{number(due.rotting)} rotting"
        )
        self._fill(
            "due",
            ((item.key, self._due_cells(item)) for item in due.items),
            {item.key: item.customer_id for item in due.items},
        )

    def _show_activity(self, items: list[activity.ActivityItem]) -> None:
        self._fill(
            "activity",
            ((_feed_key(item), self._activity_cells(item)) for item in items),
            {_feed_key(item): item.customer_id for item in items},
        )

    def _fill(
        self,
        name: str,
        rows: Iterable[tuple[str, list[object]]],
        customers: dict[str, uuid.UUID],
    ) -> None:
        self.customers[name] = customers
        self.query_one(f"#{name}", CustomerList).replace_rows(rows, follow=True)
        panel = self.query_one(f"#{name}-panel", Panel)
        panel.border_subtitle = None if customers else Content(_EMPTY[name])

    @on(SafeTable.RowSelected)
    def _open_customer(self, event: SafeTable.RowSelected) -> None:
        """enter on a feed item, a rotting deal or a due item: that customer's profile."""
        table = event.data_table
        customer = self.customers.get(table.id or "", {}).get(str(event.row_key.value))
        if customer is not None:
            self.app.push_screen(CustomerScreen(self.ctx, customer))

    # --- cells --------------------------------------------------------------------------

    def _activity_cells(self, item: activity.ActivityItem) -> list[object]:
        at = item.at.astimezone(self.tz)
        return [
            safe_text(f"{at:%m-%d %H:%M}", style="dim"),
            _what(item),
            cut(item.customer_name, "bold"),
            cut(_detail(item)),
            safe_text(board.initials(item.user_name) or None, empty=""),
        ]

    def _rotting_cells(self, deal: figures.RottingDeal) -> list[object]:
        return [
            cut(deal.customer_name, "bold"),
            cut(f"#{deal.number} {deal.title}"),
            cut(deal.stage_name),
            Text(f"+{deal.days_over}d", style="bold red", justify="right"),
            safe_text(short_money(deal.amount), justify="right"),
            safe_text(board.initials(deal.owner_name) or None, empty=""),
        ]

    def _due_cells(self, item: figures.DueItem) -> list[object]:
        if item.kind is figures.DueKind.next_step:
            if item.overdue_days > 0:
                when = Text(f"{item.overdue_days}d late", style="bold red")
            else:
                at = item.at.astimezone(self.tz) if item.at else None
                when = Text(f"{at:%H:%M}" if at else "today", style="bold")
            what = safe_text(item.text, empty="(next step)")
        else:
            when = Text(f"rot +{item.overdue_days}d", style="red")
            what = safe_text(f"#{item.estimate_number} {item.stage_name}")
        return [when, cut(item.customer_name, "bold"), cut(what)]

    # --- keys ---------------------------------------------------------------------------

    def action_next_pipeline(self) -> None:
        dashboard = self.dashboard
        if dashboard is None or not dashboard.pipelines:
            return
        following = pipeline.next_pipeline(dashboard.pipelines, self.pipeline_id)
        self.pipeline_id = following.id if following else None
        self.reload()

    def palette_commands(self) -> Iterable[PaletteCommand]:
        yield from super().palette_commands()
        yield PaletteCommand(
            "Dashboard: next pipeline",
            "Show the next pipeline's figures (p)",
            self.action_next_pipeline,
        )

    # --- live updates -------------------------------------------------------------------

    @work(thread=True, exit_on_error=False, group="dashboard-live")
    def _listen(self) -> None:
        live.listen(
            self.ctx.engine.url,
            LIVE_CHANNELS,
            lambda _payload: self.post_message(DashboardChanged()),
            self._stop_listening,
        )

    @on(DashboardChanged)
    def _changed_elsewhere(self, message: DashboardChanged) -> None:
        message.stop()
        if not self.is_current:
            self._live_stale = True  # repaint when the dashboard is shown again
            return
        if self._live_pending:
            return
        self._live_pending = True
        wait = max(LIVE_DELAY, self._last_live + LIVE_MIN_INTERVAL - time.monotonic())
        self.set_timer(wait, self._live_reload)

    def _live_reload(self) -> None:
        self._live_pending = False
        self._last_live = time.monotonic()
        self._load(self.pipeline_id)


def cut(value: object, style: str = "") -> Text:
    """Data shown literally, cut with an ellipsis where its column ends."""
    text = value if isinstance(value, Text) else safe_text(value, style)
    text.no_wrap, text.overflow = True, "ellipsis"
    return text


def _feed_key(item: activity.ActivityItem) -> str:
    return f"{item.kind.value}:{item.id}"


def _stage_rows(shown: figures.PipelineFigures) -> list[BarRow]:
    top = max((s.value for s in shown.stages), default=0) or 1
    rows = [
        BarRow(
            s.name,
            (number(s.count), money(s.value), money(s.weighted), number(s.rotting)),
            float(s.value / top),
        )
        for s in shown.stages
    ]
    rows.append(
        BarRow(
            "Open",
            (
                number(shown.open_count),
                money(shown.open_value),
                money(shown.weighted),
                number(shown.rotting_count),
            ),
            None,
            emphasis="total",
        )
    )
    won = shown.outcomes
    rows.append(
        BarRow(f"Won · {won.days}d", (number(won.won), money(won.won_value), "", ""), None, "muted")
    )
    rows.append(BarRow(f"Lost · {won.days}d", (number(won.lost), "", "", ""), None, "muted"))
    return rows


def _outcomes_text(won: figures.Outcomes) -> Content:
    """Three lines: the win rate (with a bar), days to close, won value (counts are in the
    stage table beside)."""
    rate = won.win_rate
    days = won.avg_days_to_close
    return Content.assemble(
        ("Win rate   ", "bold"),
        ("—" if rate is None else f"{rate:>4.0%}", "bold"),
        "  ",
        (hbar(rate or 0, 20), "$text-success"),
        "\n",
        ("To close   ", "bold"),
        ("—" if days is None else f"{days:.1f} days", "bold"),
        " on average" if days is not None else "",
        "\n",
        ("Won        ", "bold"),
        *(
            [(money(won.won_value), "bold"), f" in {plural(won.won, 'deal')}"]
            if won.won
            else [("nothing yet", "dim")]
        ),
    )


def _funnel_rows(steps: list[figures.FunnelStep]) -> list[FunnelRow]:
    rows = []
    previous: int | None = None
    for step in steps:
        note = ""
        if previous:
            note = f"{step.reached / previous:.0%}"
        rows.append(FunnelRow(step.name, step.reached, number(step.reached), note))
        previous = step.reached
    return rows


# Glyph and word by interaction type (as on the customer's timeline).
_INTERACTIONS = {
    "call": ("☎", "Call"),
    "email": ("✉", "Email"),
    "sms": ("✆", "Text"),
    "meeting": ("◎", "Meeting"),
}


def _what(item: activity.ActivityItem) -> Text:
    kind = item.kind
    if kind is activity.ActivityKind.stage_move:
        won = item.to_stage is not None and item.to_stage.lower().startswith("won")
        return Text("➜ Won" if won else "➜ Stage move", style="bold green" if won else "")
    if kind is activity.ActivityKind.upsell_flag:
        return Text("⚑ Upsell flag", style="bold yellow")
    if kind is activity.ActivityKind.status_change:
        converted = item.from_stage == "lead" and item.to_stage == "active"
        return Text("★ Converted" if converted else "★ Status", style="bold")
    kind = item.interaction_type or ""
    glyph, label = _INTERACTIONS.get(kind, ("•", kind.capitalize()))
    if item.automated and kind == "email":
        return Text(f"{glyph} Auto email", style="cyan")
    arrow = "in" if item.direction == "inbound" else "out"
    return Text(f"{glyph} {label} {arrow}")


def _detail(item: activity.ActivityItem) -> str:
    kind = item.kind
    if kind is activity.ActivityKind.stage_move:
        moved = f"{item.from_stage} → {item.to_stage}" if item.from_stage else f"→ {item.to_stage}"
        return f"#{item.estimate_number} {moved} · {item.estimate_title}"
    if kind is activity.ActivityKind.upsell_flag:
        return f"#{item.ticket_number} end of life: {item.ticket_text or ''}"
    if kind is activity.ActivityKind.status_change:
        return f"{item.from_stage} → {item.to_stage}" + (
            f": {item.ticket_text}" if item.ticket_text else ""
        )
    # The first line of the notes is enough for a feed; the timeline shows the rest.
    first_line = (item.notes or "").strip().splitlines()[0:1]
    outcome = item.outcome.replace("_", " ") if item.outcome else None
    return " — ".join(part for part in (outcome, *first_line) if part)
