"""Pipeline settings (managers): the stages of a pipeline with their probability, rotting days
and follow-up rule; add, edit, reorder and delete stages, add and rename pipelines. Every
change goes through `pipeline_admin`, which checks the role and explains a refusal."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from sqlmodel import Session
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Input, Label, Static

from .. import pipeline, pipeline_admin
from ..context import AppContext
from ..db.engine import session_scope
from ..display import number, safe_text
from ..errors import UserError
from ..widgets.safe_table import Column, SafeTable
from .base import APP_TITLE, describe_error
from .commands import PaletteCommand, ScreenCommands, from_keys
from .keys import bindings
from .picker import Picker
from .text_prompt import TextPrompt

COLUMNS = [
    Column("position", "#", numeric=True),
    Column("name", "Stage"),
    Column("kind", "Kind"),
    Column("probability", "Prob.", numeric=True),
    Column("rotting", "Rots after"),
    Column("follow_up", "Follow-up"),
    Column("estimates", "Deals", numeric=True),
]

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
    pipelines: list[pipeline.PipelineInfo]
    pipeline_id: uuid.UUID | None
    stages: list[pipeline_admin.StageSettings]
    focus: uuid.UUID | None


def _days(value: int | None) -> Text:
    return safe_text(f"{value} days" if value else None, empty="never")


class StageForm(ModalScreen[dict[str, str] | None]):
    CSS_PATH = "modal.tcss"
    BINDINGS: ClassVar[list[BindingType]] = bindings(
        [
            ("escape", "dismiss", "Cancel", "stage.cancel", "Close without saving"),
            ("ctrl+s", "save", "Save", "stage.save", "Save the stage"),
        ]
    )
    FIELDS = (
        ("name", "Name", ""),
        ("probability", "Probability (%)", "0 to 100"),
        ("rotting_days", "Rotting after (days)", "blank: never"),
        ("follow_up_after_days", "Follow up after (days without activity)", "blank: no rule"),
    )

    def __init__(self, stage: pipeline_admin.StageSettings) -> None:
        super().__init__()
        self.stage = stage

    def compose(self) -> ComposeResult:
        s = self.stage
        values = {
            "name": s.name,
            "probability": str(s.probability),
            "rotting_days": str(s.rotting_days or ""),
            "follow_up_after_days": str(s.follow_up_after_days or ""),
        }
        with Vertical(classes="modal-box"):
            yield Static(Content.assemble(("Edit stage ", "bold"), s.name), classes="modal-title")
            for key, label, placeholder in self.FIELDS:
                yield Label(label)
                yield Input(values[key], placeholder=placeholder, id=f"stage-{key}", max_length=60)
            yield Static(id="prompt-error")
            yield Static(
                Content("enter: next field · ctrl+s save · esc cancel"), classes="modal-hint"
            )

    def values(self) -> dict[str, str]:
        return {key: self.query_one(f"#stage-{key}", Input).value for key, _, _ in self.FIELDS}

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        keys = [key for key, _, _ in self.FIELDS]
        key = (event.input.id or "").removeprefix("stage-")
        if key == keys[-1]:
            self.action_save()
        else:
            self.query_one(f"#stage-{keys[keys.index(key) + 1]}", Input).focus()

    def action_save(self) -> None:
        v = self.values()
        checks: list[tuple[str, Callable[[], object]]] = [
            ("name", lambda: pipeline_admin.clean_name(v["name"])),
            ("probability", lambda: pipeline_admin.parse_percent(v["probability"])),
            ("rotting_days", lambda: pipeline_admin.parse_days(v["rotting_days"], "rotting after")),
            (
                "follow_up_after_days",
                lambda: pipeline_admin.parse_days(v["follow_up_after_days"], "follow up after"),
            ),
        ]
        for key, check in checks:  # field by field, so the cursor goes to the wrong one
            try:
                check()
            except UserError as error:
                self.query_one("#prompt-error", Static).update(Content(str(error)))
                self.query_one(f"#stage-{key}", Input).focus()
                return
        self.dismiss(v)


class PipelineSettingsScreen(Screen[None]):
    COMMANDS = {ScreenCommands}
    CSS_PATH = "pipeline_settings.tcss"
    AUTO_FOCUS = "#stages-table"
    BINDINGS: ClassVar[list[BindingType]] = list(bindings(_KEYS))

    def __init__(self, ctx: AppContext, pipeline_id: uuid.UUID | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.pipeline_id = pipeline_id
        self.pipelines: list[pipeline.PipelineInfo] = []
        self.stages: list[pipeline_admin.StageSettings] = []
        self.title = "Pipeline settings"

    def compose(self) -> ComposeResult:
        yield Static(Content(f"{APP_TITLE} · Pipeline settings"), id="stages-title")
        yield SafeTable(COLUMNS, id="stages-table")
        yield Static(
            Content(
                "Probability weighs the forecast. A card older than its stage's rotting days is "
                "marked ROTTING on the board. The follow-up rule emails the customer after that "
                "many days without activity (the nightly nurture job)."
            ),
            id="stages-help",
        )
        yield Footer()

    def on_mount(self) -> None:
        self.reload()

    def reload(self, focus: uuid.UUID | None = None) -> None:
        self._load(self.pipeline_id, focus)

    @work(thread=True, exclusive=True, exit_on_error=False, group="stages-load")
    def _load(self, pipeline_id: uuid.UUID | None, focus: uuid.UUID | None) -> None:
        with Session(self.ctx.engine) as session:
            pipelines = pipeline.list_pipelines(session)
            if pipeline_id is None or pipeline_id not in {p.id for p in pipelines}:
                pipeline_id = pipelines[0].id if pipelines else None
            found = pipeline_admin.stages(session, pipeline_id) if pipeline_id else []
        self.post_message(StagesLoaded(pipelines, pipeline_id, found, focus))

    @on(StagesLoaded)
    def _show(self, message: StagesLoaded) -> None:
        self.pipelines, self.pipeline_id, self.stages = (
            message.pipelines,
            message.pipeline_id,
            message.stages,
        )
        name = next((p.name for p in self.pipelines if p.id == self.pipeline_id), "")
        self.query_one("#stages-title", Static).update(
            Content.assemble((f"{APP_TITLE} · Pipeline settings · ", "bold"), safe_text(name).plain)
        )
        table = self.query_one("#stages-table", SafeTable)
        table.replace_rows(
            (
                str(s.id),
                [
                    safe_text(str(i), justify="right"),
                    safe_text(s.name),
                    s.kind,
                    safe_text(f"{s.probability}%", justify="right"),
                    _days(s.rotting_days),
                    _days(s.follow_up_after_days),
                    safe_text(number(s.estimates), justify="right"),
                ],
            )
            for i, s in enumerate(self.stages, 1)
        )
        if message.focus is not None:
            ids = [s.id for s in self.stages]
            if message.focus in ids:
                table.move_cursor(row=ids.index(message.focus))

    @property
    def current(self) -> pipeline_admin.StageSettings | None:
        table = self.query_one("#stages-table", SafeTable)
        if not self.stages or table.cursor_row is None:
            return None
        return self.stages[min(table.cursor_row, len(self.stages) - 1)]

    # --- changes -----------------------------------------------------------------------------

    @work(thread=True, exit_on_error=False, group="stages-change")
    def _change(self, what: str, change: Callable[[Session], object], focus=None) -> None:
        try:
            with session_scope(self.ctx.engine) as session:
                result = change(session)
        except Exception as error:
            self.app.call_from_thread(
                self.notify,
                describe_error(error, self.ctx),
                title=f"Could not {what}",
                severity="error",
                markup=False,
                timeout=8,
            )
            return
        self.app.call_from_thread(self.reload, result if isinstance(result, uuid.UUID) else focus)

    def action_edit(self) -> None:
        stage = self.current
        if stage is None:
            return

        def saved(values: dict[str, str] | None) -> None:
            if values is not None:
                self._change(
                    "save the stage",
                    lambda s: pipeline_admin.update_stage(s, self.ctx.actor, stage.id, **values),
                    stage.id,
                )

        self.app.push_screen(StageForm(stage), saved)

    @on(SafeTable.RowSelected, "#stages-table")
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
                    lambda s: pipeline_admin.add_stage(
                        s, self.ctx.actor, pipeline_id, name, after=after_id
                    ),
                )

        self.app.push_screen(TextPrompt("Name of the new stage"), named)

    def action_move(self, delta: int) -> None:
        stage = self.current
        if stage is not None:
            self._change(
                "move the stage",
                lambda s: pipeline_admin.move_stage(s, self.ctx.actor, stage.id, delta),
                stage.id,
            )

    def action_delete(self) -> None:
        stage = self.current
        if stage is None:
            return
        if stage.estimates:
            self.notify(
                f"“{stage.name}” holds {number(stage.estimates)} estimates: move them to "
                "another stage on the board first",
                severity="warning",
                markup=False,
            )
            return
        choices = [(Text(f"Delete “{stage.name}”"), True), (Text("Keep it"), False)]

        def chosen(yes: bool | None) -> None:
            if yes:
                self._change(
                    "delete the stage",
                    lambda s: pipeline_admin.delete_stage(s, self.ctx.actor, stage.id),
                )

        self.app.push_screen(Picker(f"Delete the stage “{stage.name}”?", choices), chosen)

    def action_next_pipeline(self) -> None:
        following = pipeline.next_pipeline(self.pipelines, self.pipeline_id)
        if following is not None and following.id != self.pipeline_id:
            self.pipeline_id = following.id
            self.reload()

    def action_new_pipeline(self) -> None:
        def named(name: str | None) -> None:
            if name:
                self._change_pipeline(name)

        self.app.push_screen(TextPrompt("Name of the new pipeline"), named)

    def _change_pipeline(self, name: str) -> None:
        def create(s: Session) -> uuid.UUID:
            self.pipeline_id = pipeline_admin.add_pipeline(s, self.ctx.actor, name)
            return self.pipeline_id

        self._change("add the pipeline", create)

    def action_rename_pipeline(self) -> None:
        pipeline_id = self.pipeline_id
        if pipeline_id is None:
            return
        current = next((p.name for p in self.pipelines if p.id == pipeline_id), "")

        def named(name: str | None) -> None:
            if name:
                self._change(
                    "rename the pipeline",
                    lambda s: pipeline_admin.rename_pipeline(s, self.ctx.actor, pipeline_id, name),
                )

        self.app.push_screen(TextPrompt("Rename the pipeline", value=current), named)

    def action_close(self) -> None:
        self.dismiss(None)

    def palette_commands(self) -> Iterator[PaletteCommand]:
        yield from from_keys(self.run_action, _KEYS, skip=("close",))
