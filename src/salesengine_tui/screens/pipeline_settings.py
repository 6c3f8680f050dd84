"""Pipeline settings (managers): the stages of a pipeline with their probability, rotting days
and follow-up rule; add, edit, reorder and delete stages, add and rename pipelines. Every
change goes through the desk (`desk.pipelines`), whose domain checks the role and explains a
refusal."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static

from ..deals import pipeline_admin
from ..deals.pipelines import PipelineInfo, next_pipeline
from ..ui.display import number, safe_text, visible
from ..usecases.context import AppContext
from ..usecases.desk import Desk
from ..usecases.pipelines import PipelineStages
from ..widgets.app_footer import AppFooter
from ..widgets.stages_table import StagesTable
from .base import APP_TITLE, describe_error
from .commands import PaletteCommand, ScreenCommands, from_keys
from .confirm import ConfirmDialog
from .keys import bindings
from .messages import Notice
from .stage_form import StageForm
from .text_prompt import TextPrompt

__all__ = ["PipelineSettingsScreen", "StageForm"]

_KEYS = [
    (
        "enter,e",
        "edit",
        "Edit",
        "stages.edit",
        "Edit name, probability, rules",
        True,
    ),
    ("a", "add", "Add stage", "stages.add", "Add a stage after this one", True),
    ("K,shift+up", "move(-1)", "Up", "stages.up", "Move the stage one place earlier", True),
    ("J,shift+down", "move(1)", "Down", "stages.down", "Move the stage one place later", True),
    ("d", "delete", "Delete", "stages.delete", "Delete the stage (it must be empty)", True),
    ("p", "next_pipeline", "Pipeline", "stages.pipeline", "Show the next pipeline", True),
    ("P", "new_pipeline", "New pipeline", "stages.new", "Add a pipeline", False),
    ("R", "rename_pipeline", "Rename", "stages.rename", "Rename this pipeline", False),
    ("escape", "close", "Back", "stages.back", "Back to the board", True),
]


@dataclass
class StagesLoaded(Message):
    loaded: PipelineStages
    focus: uuid.UUID | None


@dataclass
class StagesChanged(Message):
    """A change was saved: show the stages again, the cursor on `focus`."""

    focus: uuid.UUID | None
    pipeline_id: uuid.UUID | None = None  # a new pipeline: show it


class PipelineSettingsScreen(Screen[None]):
    COMMANDS = {ScreenCommands}
    CSS_PATH = "pipeline_settings.tcss"
    AUTO_FOCUS = "#stages-table"
    BINDINGS: ClassVar[list[BindingType]] = list(bindings(_KEYS))

    def __init__(self, ctx: AppContext, pipeline_id: uuid.UUID | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.pipeline_id = pipeline_id
        self.pipelines: list[PipelineInfo] = []
        self.title = "Pipeline settings"

    @property
    def desk(self) -> Desk:
        return self.app.desk  # type: ignore[attr-defined]

    def compose(self) -> ComposeResult:
        yield Static(Content(f"{APP_TITLE} · Pipeline settings"), id="stages-title")
        yield StagesTable(id="stages-table")
        yield Static(
            Content(
                "Probability weighs the forecast. A card older than its stage's rotting days is "
                "marked ROTTING on the board. The follow-up rule emails the customer after that "
                "many days without activity (the nightly nurture job)."
            ),
            id="stages-help",
        )
        yield AppFooter()  # keeps `? Keys` at any width

    def on_mount(self) -> None:
        # Not a section screen: this is its one load on arrival.
        self.reload()

    def reload(self, focus: uuid.UUID | None = None) -> None:
        self._load(self.pipeline_id, focus)

    @work(thread=True, exclusive=True, exit_on_error=False, group="stages-load")
    def _load(self, pipeline_id: uuid.UUID | None, focus: uuid.UUID | None) -> None:
        self.post_message(StagesLoaded(self.desk.pipelines.stages(pipeline_id), focus))

    @on(StagesLoaded)
    def _show(self, message: StagesLoaded) -> None:
        loaded = message.loaded
        self.pipelines, self.pipeline_id = loaded.pipelines, loaded.pipeline_id
        name = next((p.name for p in self.pipelines if p.id == self.pipeline_id), "")
        self.query_one("#stages-title", Static).update(
            Content.assemble((f"{APP_TITLE} · Pipeline settings · ", "bold"), safe_text(name).plain)
        )
        self.table.show(loaded.stages, message.focus)

    @property
    def table(self) -> StagesTable:
        return self.query_one("#stages-table", StagesTable)

    @property
    def stages(self) -> list[pipeline_admin.StageSettings]:
        return self.table.stages

    @property
    def current(self) -> pipeline_admin.StageSettings | None:
        return self.table.current

    @work(thread=True, exit_on_error=False, group="stages-change")
    def _change(
        self,
        what: str,
        change: Callable[[], object],
        focus: uuid.UUID | None = None,
        *,
        opens_pipeline: bool = False,
    ) -> None:
        """In a worker: one change through the desk, then the stages again (or why not). A
        change that returns an id puts the cursor there; a new pipeline is then shown."""
        try:
            result = change()
        except Exception as error:
            self.post_message(
                Notice(
                    describe_error(error, self.ctx),
                    title=f"Could not {what}",
                    severity="error",
                    timeout=8,
                )
            )
            return
        created = result if isinstance(result, uuid.UUID) else None
        self.post_message(
            StagesChanged(created or focus, pipeline_id=created if opens_pipeline else None)
        )

    @on(StagesChanged)
    def _changed(self, message: StagesChanged) -> None:
        if message.pipeline_id is not None:
            self.pipeline_id = message.pipeline_id
        self.reload(message.focus)

    @on(Notice)
    def _notice(self, message: Notice) -> None:
        message.stop()
        self.notify(
            message.text,
            title=message.title,
            severity=message.severity,
            timeout=message.timeout,
            markup=False,
        )

    def action_edit(self) -> None:
        stage = self.current
        if stage is None:
            return

        def save(values: dict[str, str]) -> None:  # in the form's worker
            self.desk.pipelines.update_stage(stage.id, **values)

        def saved(values: dict[str, str] | None) -> None:
            if values is not None:  # saved: the form closes only then
                self.post_message(StagesChanged(stage.id))

        self.app.push_screen(StageForm(stage, save), saved)

    @on(StagesTable.RowSelected, "#stages-table")
    def _row_chosen(self) -> None:
        self.action_edit()

    def action_add(self) -> None:
        if self.pipeline_id is None:
            return
        pipeline_id, after = self.pipeline_id, self.current
        after_id = after.id if after and not (after.is_won or after.is_lost) else None

        def named(name: str | None) -> None:
            if name:
                self._change(
                    "add the stage",
                    lambda: self.desk.pipelines.add_stage(pipeline_id, name, after=after_id),
                )

        self.app.push_screen(TextPrompt("Name of the new stage"), named)

    def action_move(self, delta: int) -> None:
        stage = self.current
        if stage is not None:
            self._change(
                "move the stage", lambda: self.desk.pipelines.move_stage(stage.id, delta), stage.id
            )

    def action_delete(self) -> None:
        stage = self.current
        if stage is None:
            return
        if stage.estimates:
            self.notify(
                f"“{visible(stage.name)}” holds {number(stage.estimates)} estimates: move them to "
                "another stage on the board first",
                severity="warning",
                markup=False,
            )
            return

        def chosen(yes: bool | None) -> None:
            if yes:
                self._change("delete the stage", lambda: self.desk.pipelines.delete_stage(stage.id))

        question = f"Delete the stage “{stage.name}”?"  # the dialog shows data, never obeys it
        self.app.push_screen(ConfirmDialog(question, yes="Delete", no="Keep it"), chosen)

    def action_next_pipeline(self) -> None:
        following = next_pipeline(self.pipelines, self.pipeline_id)
        if following is not None and following.id != self.pipeline_id:
            self.pipeline_id = following.id
            self.reload()

    def action_new_pipeline(self) -> None:
        def named(name: str | None) -> None:
            if name:
                self._change(
                    "add the pipeline",
                    lambda: self.desk.pipelines.add_pipeline(name),
                    opens_pipeline=True,
                )

        self.app.push_screen(TextPrompt("Name of the new pipeline"), named)

    def action_rename_pipeline(self) -> None:
        pipeline_id = self.pipeline_id
        if pipeline_id is None:
            return
        current = next((p.name for p in self.pipelines if p.id == pipeline_id), "")

        def named(name: str | None) -> None:
            if name:
                self._change(
                    "rename the pipeline",
                    lambda: self.desk.pipelines.rename_pipeline(pipeline_id, name),
                )

        self.app.push_screen(TextPrompt("Rename the pipeline", value=current), named)

    def action_close(self) -> None:
        self.dismiss(None)

    def palette_commands(self) -> Iterator[PaletteCommand]:
        yield from from_keys(self.run_action, _KEYS, skip=("close",))
