"""Sales > Pipeline: the stages of one pipeline with their deals, count and value.

Until the Kanban board lands this is the board's summary row as a table; `p` cycles pipelines.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.widgets import Static

from .. import pipeline
from ..context import AppContext
from ..display import money, number, percent, plural, safe_text
from ..widgets.safe_table import Column, SafeTable
from .base import SectionScreen
from .commands import PaletteCommand
from .messages import PipelineLoaded
from .sections import PIPELINE

COLUMNS = [
    Column("stage", "Stage"),
    Column("kind", "Type"),
    Column("probability", "Win %", numeric=True),
    Column("count", "Deals", numeric=True),
    Column("value", "Value", numeric=True),
    Column("weighted", "Weighted", numeric=True),
]


class PipelineScreen(SectionScreen):
    SECTION = PIPELINE
    CSS_PATH = "pipeline.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "p",
            "next_pipeline",
            "Next pipeline",
            id="pipeline.next",
            tooltip="Show the next pipeline (ctrl+p to pick one by name)",
        ),
    ]

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self.pipelines: list[pipeline.PipelineInfo] = []
        self.pipeline_id: uuid.UUID | None = None

    def compose_body(self) -> ComposeResult:
        yield SafeTable(COLUMNS, id="stages")
        yield Static(id="totals")

    def reload(self) -> None:
        self.show_pipeline(self.pipeline_id)

    def show_pipeline(self, pipeline_id: uuid.UUID | None) -> None:
        self.set_loading(True)
        self._load(pipeline_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="pipeline-load")
    def _load(self, pipeline_id: uuid.UUID | None) -> None:
        with self.session() as session:
            pipelines = pipeline.list_pipelines(session)
            if pipeline_id not in {p.id for p in pipelines}:
                # First load, or the pipeline was deleted meanwhile: show the first one.
                pipeline_id = pipelines[0].id if pipelines else None
            stages = pipeline.stage_summaries(session, pipeline_id) if pipeline_id else []
        self.deliver(PipelineLoaded(pipelines=pipelines, pipeline_id=pipeline_id, stages=stages))

    @on(PipelineLoaded)
    def _show(self, message: PipelineLoaded) -> None:
        message.stop()
        self.pipelines, self.pipeline_id = message.pipelines, message.pipeline_id
        self.refresh_bindings()  # `p` is only offered when there is another pipeline
        table = self.query_one("#stages", SafeTable)
        table.replace_rows((str(stage.id), self._cells(stage)) for stage in message.stages)
        self.set_loading(False)
        current = self.current_pipeline
        if current is None:
            self.set_title_detail("no pipelines yet")
            self.query_one("#totals", Static).update("")
            return
        place = self.pipelines.index(current) + 1
        self.set_title_detail(current.name, f"{place} of {len(self.pipelines)}")
        self.query_one("#totals", Static).update(Content(_totals_line(message.stages)))

    @property
    def current_pipeline(self) -> pipeline.PipelineInfo | None:
        return next((p for p in self.pipelines if p.id == self.pipeline_id), None)

    @staticmethod
    def _cells(stage: pipeline.StageSummary) -> list[object]:
        kind = "won" if stage.is_won else "lost" if stage.is_lost else "open"
        return [
            safe_text(stage.name, style="bold" if stage.is_open else ""),
            safe_text(kind, style="" if stage.is_open else "dim"),
            safe_text(percent(stage.probability), justify="right"),
            safe_text(number(stage.count), justify="right"),
            safe_text(money(stage.total_value), justify="right"),
            safe_text(money(stage.weighted_value), justify="right"),
        ]

    def action_next_pipeline(self) -> None:
        following = pipeline.next_pipeline(self.pipelines, self.pipeline_id)
        if following is not None:
            self.show_pipeline(following.id)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "next_pipeline":
            return len(self.pipelines) > 1 or None  # None: shown, but dimmed
        return super().check_action(action, parameters)

    def palette_commands(self) -> Iterable[PaletteCommand]:
        yield from super().palette_commands()
        for info in self.pipelines:
            yield PaletteCommand(
                f"Show pipeline: {info.name}",
                "Switch the pipeline section to this pipeline",
                lambda pipeline_id=info.id: self.show_pipeline(pipeline_id),
            )


def _totals_line(stages: list[pipeline.StageSummary]) -> str:
    totals = pipeline.totals_of(stages)
    return (
        f"Open: {deals(totals.open_count)} · {money(totals.open_value)} · "
        f"weighted {money(totals.weighted_value)}   "
        f"Won: {deals(totals.won_count)} · {money(totals.won_value)}   "
        f"Lost: {deals(totals.lost_count)}"
    )


def deals(count: int) -> str:
    return plural(count, "deal")
