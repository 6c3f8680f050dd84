"""Dashboard: one pipeline's figures, what is due for me today, and the team's activity, live.

Top: the open stages (count, value, weighted forecast, rotting; bars of value) beside won and
lost in the last 90 days (win rate, days to close, a sparkline of won value per week). Middle:
the most overdue deals beside the funnel of the window's decided deals. Bottom: the activity
feed beside my next steps and rotting deals. Every figure is an SQL aggregate
(`deals.figures`), loaded in a worker through `desk.dashboard`; `enter` on a feed item, a
rotting deal or a due item opens that customer. Changes made in other terminals arrive by
LISTEN/NOTIFY and repaint the dashboard at most once every `DASHBOARD_LIVE_SECONDS`, one
reload at a time (a busy floor's NOTIFYs must not become a stampede of reloads), every list's
cursor staying on its item.

The panels are widgets (`widgets/dashboard_panels.py`), their text is drawn by
`widgets/dashboard_cells.py`; this screen lays them out, loads, listens and handles the keys.
Narrow or short terminals get the panels one under another, scrolling.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.timer import Timer
from textual.worker import Worker

from ..activity.feed import ActivityItem
from ..deals import figures
from ..deals import pipelines as pipeline
from ..ui.display import local_datetime, number
from ..usecases.context import AppContext
from ..widgets.dashboard_blasts import RECENT_BLASTS, BlastsPanel
from ..widgets.dashboard_cells import activity_cells, due_cells, feed_key, rotting_cells
from ..widgets.dashboard_panels import (
    ACTIVITY_COLUMNS,
    DUE_COLUMNS,
    ROTTING_COLUMNS,
    CustomerList,
    FunnelPanel,
    ListPanel,
    OutcomesPanel,
    StagesPanel,
)
from ..widgets.safe_table import SafeTable
from .base import SectionScreen
from .commands import PaletteCommand
from .customer import CustomerScreen
from .keys import bindings
from .messages import DashboardChanged, DashboardLoaded, RecentBlastsLoaded
from .sections import DASHBOARD

if TYPE_CHECKING:
    pass

__all__ = ["CustomerList", "DashboardScreen"]


# Below this size the panels stack (one column, scrolling) instead of sharing the screen.
WIDE_ENOUGH = 110
TALL_ENOUGH = 34
# A burst of changes elsewhere repaints once (after LIVE_DELAY, so the burst can end), one
# reload at a time, and reloads start at most once every DASHBOARD_LIVE_SECONDS: each reload
# is about ten aggregates on up to three connections and a repaint of what changed, and every
# open dashboard hears every change on the floor (measured: a dashboard reloading every 2 s
# under a steady floor cost 5 times a board's CPU).
LIVE_DELAY = 0.25
DASHBOARD_LIVE_SECONDS = 5.0
LOAD_GROUP = "dashboard-load"

_KEYS: list[tuple[str, str, str, str, str, bool]] = [
    ("p", "next_pipeline", "Pipeline", "dashboard.pipeline", "Show the next pipeline", True),
    (
        "f",
        "forecast_view",
        "Forecast",
        "dashboard.forecast",
        "The open deals by stage, or by expected close month (toggle)",
        True,
    ),
]


class DashboardScreen(SectionScreen):
    SECTION = DASHBOARD
    CSS_PATH = "dashboard.tcss"
    AUTO_FOCUS = None  # the feed, or when stacked the page itself (see `on_mount`)
    BINDINGS: ClassVar[list[BindingType]] = list(bindings(_KEYS))

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self.pipeline_id: uuid.UUID | None = None
        self.by_close_month = False  # the forecast by expected close month is shown (`f`)
        self.dashboard: figures.Dashboard | None = None
        self._stop_listening = threading.Event()
        # Set once the LISTEN connection is up (tests wait on it instead of sleeping).
        self.listening = threading.Event()
        self._live_timer: Timer | None = None  # the reload a change heard has scheduled
        self._live_due = False  # a change heard that no reload started since has read
        self._live_stale = False  # a change arrived while another section was on screen
        self._last_load = -math.inf  # when the latest load started (time.monotonic)

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="dash"):
            with Horizontal(classes="row", id="row-top"):
                yield StagesPanel()
                yield OutcomesPanel()
            with Horizontal(classes="row", id="row-middle"):
                yield ListPanel(
                    ROTTING_COLUMNS,
                    flex="deal",
                    list_id="rotting",
                    title="Rotting deals",
                    empty="no deal is rotting",
                )
                yield FunnelPanel()
            with Horizontal(classes="row", id="row-bottom"):
                yield ListPanel(
                    ACTIVITY_COLUMNS,
                    flex="detail",
                    list_id="activity",
                    title="Activity",
                    empty="no activity yet",
                )
                with Vertical(id="bottom-right"):
                    yield ListPanel(
                        DUE_COLUMNS,
                        flex="what",
                        list_id="due",
                        title="My day",
                        empty="nothing due today",
                    )
                    yield BlastsPanel()

    def on_mount(self) -> None:
        # Set-up only: the base screen's on_mount, which runs after this one, loads.
        if self.ctx.settings.live_updates:
            self._listen()
        self._fit(self.size.width, self.size.height)
        # Wide: the feed has the keys. Stacked: the page scrolls first (tab reaches the lists),
        # so the cursor is never on a list out of sight.
        self.set_focus(self.query_one("#dash" if self.has_class("-stacked") else "#activity"))

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
            self._live_due = True
            self._schedule_live_reload()

    # --- loading ------------------------------------------------------------------------

    def reload(self) -> None:
        self.set_loading(True)
        self._load(self.pipeline_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group=LOAD_GROUP)
    def _load(self, pipeline_id: uuid.UUID | None) -> None:
        self._last_load = time.monotonic()
        self.deliver(
            DashboardLoaded(
                self.desk.dashboard.load(pipeline_id, by_close_month=self.by_close_month)
            )
        )
        self.deliver(RecentBlastsLoaded(self.desk.dashboard.recent_blasts(RECENT_BLASTS)))

    @on(DashboardLoaded)
    def _show(self, message: DashboardLoaded) -> None:
        message.stop()
        before, dashboard = self.dashboard, message.dashboard
        self.dashboard = dashboard
        shown = dashboard.figures
        self.pipeline_id = shown.pipeline.id if shown else None
        # Each part is drawn again only when it changed: every open dashboard hears every
        # change on the floor, and refilling its tables is most of what a reload costs it.
        if before is None or before.figures != shown:
            self._show_pipeline(shown)
        if before is None or before.due != dashboard.due:
            self._show_due(dashboard.due)
        if before is None or before.activity != dashboard.activity:
            self._show_activity(dashboard.activity)
        if any(table.loading for table in self.query(SafeTable)):
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

    @on(RecentBlastsLoaded)
    def _show_blasts(self, message: RecentBlastsLoaded) -> None:
        message.stop()
        self.query_one(BlastsPanel).show(message.blasts, self.tz)

    def _show_pipeline(self, shown: figures.PipelineFigures | None) -> None:
        self.query_one(StagesPanel).show(shown)
        self.query_one(OutcomesPanel).show(shown)
        self.query_one(FunnelPanel).show(shown)
        rotting = self._list_panel("rotting")
        if shown is None:
            rotting.fill([], {})
            return
        rotting.retitle(
            f"Rotting deals · {number(shown.rotting_count)}",
            "most overdue first" if shown.rotting else "",
        )
        rotting.fill(
            ((str(d.estimate_id), rotting_cells(d)) for d in shown.rotting),
            {str(d.estimate_id): d.customer_id for d in shown.rotting},
        )

    def _show_due(self, due: figures.Due) -> None:
        panel = self._list_panel("due")
        panel.retitle(
            "My day",
            f"{number(due.overdue)} overdue",
            f"{number(due.due_today)} today",
            f"{number(due.rotting)} rotting",
        )
        panel.fill(
            ((item.key, due_cells(item, self.tz)) for item in due.items),
            {item.key: item.customer_id for item in due.items},
        )

    def _show_activity(self, items: list[ActivityItem]) -> None:
        self._list_panel("activity").fill(
            ((feed_key(item), activity_cells(item, self.tz)) for item in items),
            {feed_key(item): item.customer_id for item in items},
        )

    def _list_panel(self, name: str) -> ListPanel:
        return self.query_one(f"#{name}-panel", ListPanel)

    @on(SafeTable.RowSelected)
    def _open_customer(self, event: SafeTable.RowSelected) -> None:
        """enter on a feed item, a rotting deal or a due item: that customer's profile."""
        table = event.data_table
        if not isinstance(table, CustomerList):
            return
        customer = table.customer_at(str(event.row_key.value))
        if customer is not None:
            self.app.push_screen(CustomerScreen(self.ctx, customer))

    # --- keys ---------------------------------------------------------------------------

    def action_next_pipeline(self) -> None:
        dashboard = self.dashboard
        if dashboard is None or not dashboard.pipelines:
            return
        following = pipeline.next_pipeline(dashboard.pipelines, self.pipeline_id)
        self.pipeline_id = following.id if following else None
        self.reload()

    def action_forecast_view(self) -> None:
        """The top-left panel: open deals by stage, or by expected close month."""
        panel = self.query_one(StagesPanel)
        self.by_close_month = panel.by_close_month = not self.by_close_month
        shown = self.dashboard.figures if self.dashboard else None
        if panel.by_close_month and shown is not None and shown.close_months is None:
            self.reload()  # read only while shown: fetch it now
        else:
            panel.show(shown)

    def palette_commands(self) -> Iterable[PaletteCommand]:
        yield from super().palette_commands()
        yield PaletteCommand(
            "Dashboard: forecast by close month",
            "The open deals by stage, or by expected close month (f)",
            self.action_forecast_view,
        )
        yield PaletteCommand(
            "Dashboard: next pipeline",
            "Show the next pipeline's figures (p)",
            self.action_next_pipeline,
        )

    # --- live updates -------------------------------------------------------------------

    @work(thread=True, exit_on_error=False, group="dashboard-live")
    def _listen(self) -> None:
        self.desk.dashboard.listen(
            lambda: self.post_message(DashboardChanged()),
            self._stop_listening,
            on_connected=self.listening.set,
        )

    @on(DashboardChanged)
    def _changed_elsewhere(self, message: DashboardChanged) -> None:
        message.stop()
        if not self.is_current:
            self._live_stale = True  # repaint when the dashboard is shown again
            return
        self._live_due = True
        self._schedule_live_reload()

    @property
    def loading_now(self) -> bool:
        """A load of the dashboard is running (started by a change, a key or the first show)."""
        return any(w.group == LOAD_GROUP and not w.is_finished for w in self.app.workers)

    @property
    def live_idle(self) -> bool:
        """Every change heard has been read by a finished load and none is scheduled."""
        return not (self._live_due or self._live_timer or self.loading_now)

    def _schedule_live_reload(self) -> None:
        """One reload for every change heard so far: not while one runs (its end schedules
        the next), and not sooner than DASHBOARD_LIVE_SECONDS after the latest started."""
        if self._live_timer is not None or self.loading_now:
            return
        wait = max(LIVE_DELAY, self._last_load + DASHBOARD_LIVE_SECONDS - time.monotonic())
        self._live_timer = self.set_timer(wait, self._live_reload)

    def _live_reload(self) -> None:
        self._live_timer = None
        if not self.is_current:  # left meanwhile: read it all on return instead
            self._live_stale, self._live_due = True, False
            return
        if self.loading_now:
            return  # a key's reload started meanwhile: its end schedules ours
        self._live_due = False  # this load reads every change heard up to now
        self._load(self.pipeline_id)

    @on(Worker.StateChanged)
    def _load_ended(self, event: Worker.StateChanged) -> None:
        if event.worker.group == LOAD_GROUP and event.worker.is_finished and self._live_due:
            self._schedule_live_reload()
