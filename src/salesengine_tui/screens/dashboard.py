"""Dashboard: every pipeline at a glance and the newest activity (the plan's "Pipeline +
Activity Feed")."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import Static

from .. import activity, pipeline
from ..context import AppContext
from ..display import local_datetime, money, number, safe_text
from ..widgets.safe_table import Column, SafeTable
from .base import SectionScreen
from .customer import CustomerScreen
from .messages import DashboardLoaded
from .sections import DASHBOARD

PIPELINE_COLUMNS = [
    Column("pipeline", "Pipeline"),
    Column("open", "Open deals", numeric=True),
    Column("value", "Open value", numeric=True),
    Column("weighted", "Weighted", numeric=True),
    Column("won", "Won", numeric=True),
    Column("won_value", "Won value", numeric=True),
]
ACTIVITY_COLUMNS = [
    Column("when", "When"),
    Column("what", "What"),
    Column("customer", "Customer", width=22),
    Column("detail", "Detail", width=38),
    Column("by", "By", width=14),
]


class DashboardScreen(SectionScreen):
    SECTION = DASHBOARD
    CSS_PATH = "dashboard.tcss"

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self.feed: list[activity.ActivityItem] = []

    def compose_body(self) -> ComposeResult:
        yield Static(Content("Pipelines"), classes="panel-title")
        yield SafeTable(PIPELINE_COLUMNS, id="pipelines")
        yield Static(Content("Recent activity"), classes="panel-title")
        yield SafeTable(ACTIVITY_COLUMNS, id="activity")

    def reload(self) -> None:
        self.set_loading(True)
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="dashboard-load")
    def _load(self) -> None:
        with self.session() as session:
            overview = pipeline.pipeline_overview(session)
            feed = activity.recent_activity(session)
        self.deliver(DashboardLoaded(pipelines=overview, activity=feed))

    @on(DashboardLoaded)
    def _show(self, message: DashboardLoaded) -> None:
        message.stop()
        self.query_one("#pipelines", SafeTable).replace_rows(
            (str(o.pipeline.id), _pipeline_cells(o)) for o in message.pipelines
        )
        self.feed = message.activity
        self.query_one("#activity", SafeTable).replace_rows(
            (f"{item.kind}:{i}", self._activity_cells(item))
            for i, item in enumerate(message.activity)
        )
        self.set_loading(False)
        self.set_title_detail(f"as of {local_datetime(self.ctx.clock.now(), self.tz)}")

    @on(SafeTable.RowSelected, "#activity")
    def _open_customer(self, event: SafeTable.RowSelected) -> None:
        """enter on an activity row: that customer's profile."""
        index = event.cursor_row
        if 0 <= index < len(self.feed):
            self.app.push_screen(CustomerScreen(self.ctx, self.feed[index].customer_id))

    def _activity_cells(self, item: activity.ActivityItem) -> list[object]:
        return [
            safe_text(local_datetime(item.at, self.tz)),
            safe_text(_what(item)),
            safe_text(item.customer_name, style="bold"),
            safe_text(_detail(item)),
            safe_text(item.user_name),
        ]


def _pipeline_cells(overview: pipeline.PipelineOverview) -> list[object]:
    t = overview.totals
    return [
        safe_text(overview.pipeline.name, style="bold"),
        *(
            safe_text(value, justify="right")
            for value in (
                number(t.open_count),
                money(t.open_value),
                money(t.weighted_value),
                number(t.won_count),
                money(t.won_value),
            )
        ),
    ]


def _what(item: activity.ActivityItem) -> str:
    if item.kind is activity.ActivityKind.stage_move:
        return "Stage move"
    return f"{(item.interaction_type or '').capitalize()} · {item.direction or ''}"


def _detail(item: activity.ActivityItem) -> str:
    if item.kind is activity.ActivityKind.stage_move:
        moved = f"{item.from_stage} → {item.to_stage}" if item.from_stage else f"→ {item.to_stage}"
        return f"#{item.estimate_number} {item.estimate_title}: {moved}"
    # The first line of the notes is enough for a feed; the timeline shows the rest.
    first_line = (item.notes or "").strip().splitlines()[0:1]
    return " — ".join(part for part in (item.outcome, *first_line) if part)
