"""What every section screen shares: the header, the title line, the footer, loading data in a
worker and turning a failed load into one notification."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar
from zoneinfo import ZoneInfo

import psycopg
from sqlalchemy.exc import DBAPIError, OperationalError
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static
from textual.worker import Worker, WorkerState, get_current_worker

from ..access.users import Actor
from ..base.errors import UserError
from ..db.engine import explain_connect_error
from ..ui.display import visible
from ..usecases import AppContext, Desk
from ..widgets.app_footer import AppFooter
from ..widgets.app_header import AppHeader
from ..widgets.safe_table import SafeTable
from .commands import PaletteCommand, ScreenCommands
from .messages import Notice
from .sections import SECTIONS, Section

APP_TITLE = "SalesEngine"


def actor_label(actor: Actor) -> str:
    return f"{visible(actor.name)} · {actor.role.value}"


def describe_error(error: BaseException, ctx: AppContext) -> str:
    """One line a person can act on, whatever went wrong in a worker."""
    if isinstance(error, UserError):
        return str(error)
    if isinstance(error, OperationalError | psycopg.OperationalError):
        return explain_connect_error(error, ctx.engine.url)
    if isinstance(error, DBAPIError):
        lines = str(error.orig).strip().splitlines()
        return f"database error: {lines[0] if lines else type(error.orig).__name__}"
    return f"unexpected error: {type(error).__name__}: {error}"


class SectionScreen(Screen[None]):
    """Base for the sections. Subclasses set SECTION and implement `compose_body` and
    `reload` (which starts their worker); the worker hands its result back with `deliver`.

    This class is the one place that calls `reload` when the screen is first mounted. Textual
    runs the `on_mount` of every class in the MRO, the subclass's first: a subclass's own
    `on_mount` only prepares (focus, layout, listeners) and calls neither `reload` nor
    `super().on_mount()`, or the section loads twice."""

    SECTION: ClassVar[Section]
    COMMANDS = {ScreenCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "r",
            "refresh",
            "Refresh",
            id="section.refresh",
            tooltip="Reload this section from the database",
        ),
    ]
    DEFAULT_CSS = """
    SectionScreen {
        #section-title {
            height: 1;
            padding: 0 1;
            background: $boost;
            text-wrap: nowrap;
            text-overflow: ellipsis;
        }
    }
    """

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(id=f"section-{self.SECTION.mode}")
        self.title = self.SECTION.path
        self.ctx = ctx
        self.tz = ZoneInfo(ctx.settings.business_timezone)

    def compose(self) -> ComposeResult:
        yield AppHeader(
            title=APP_TITLE,
            tabs=[section.tab for section in SECTIONS],
            current=self.SECTION.mode,
            user=actor_label(self.ctx.actor),
        )
        yield Static(Content(self.SECTION.path), id="section-title")
        yield from self.compose_body()
        yield AppFooter()  # keeps `? Keys` and `q Quit` at any width

    def compose_body(self) -> ComposeResult:
        raise NotImplementedError

    def on_screen_resume(self) -> None:
        # Each section has its own header: bring its unread count up to date on arrival.
        self.query_one(AppHeader).set_unread(getattr(self.app, "unread", 0))

    def on_mount(self) -> None:
        # Runs after any subclass's on_mount (see the class docstring): the first load.
        self.reload()

    def reload(self) -> None:
        """Start loading this section's data (in a worker)."""
        raise NotImplementedError

    def action_refresh(self) -> None:
        self.reload()

    def palette_commands(self) -> Iterable[PaletteCommand]:
        yield PaletteCommand(
            f"Refresh {self.SECTION.title}", "Reload this section from the database", self.reload
        )

    # --- helpers for subclasses ---

    def set_title_detail(self, *details: str) -> None:
        """The title line: the section's path, then details (data, shown literally)."""
        parts: list[str | tuple[str, str]] = [(self.SECTION.path, "bold")]
        for detail in details:
            parts += [(" · ", "dim"), visible(detail)]
        self.query_one("#section-title", Static).update(Content.assemble(*parts))

    @property
    def desk(self) -> Desk:
        """The use cases: every read and write of this screen goes through them."""
        return self.app.desk  # type: ignore[attr-defined]

    def set_loading(self, loading: bool) -> None:
        for table in self.query(SafeTable):
            table.loading = loading

    def deliver(self, message: Message) -> None:
        """From a worker thread: hand `message` to the screen unless a newer load replaced us."""
        if not get_current_worker().is_cancelled:
            self.post_message(message)

    @on(Notice)
    def _notice(self, message: Notice) -> None:
        message.toast(self)
        if message.reload:
            self.reload()

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state is not WorkerState.ERROR or event.worker.error is None:
            return
        self.set_loading(False)
        self.log.error("worker failed", event.worker.name, event.worker.error)
        self.notify(
            describe_error(event.worker.error, self.ctx),
            title=f"Could not load {self.SECTION.title}",
            severity="error",
            timeout=10,
            markup=False,
        )


class DetailScreen(Screen[None]):
    """A screen pushed over a section to show one thing (a customer, a deal). A worker that
    fails is one toast titled with what the screen shows; a `Notice` is a toast, and reloads
    the screen when it asks to. Subclasses set ERROR_TITLE and implement `action_reload`."""

    ERROR_TITLE: ClassVar[str]
    ctx: AppContext

    def action_reload(self) -> None:
        raise NotImplementedError

    @on(Notice)
    def _notice(self, message: Notice) -> None:
        message.toast(self)
        if message.reload:
            self.action_reload()

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.notify(
                describe_error(event.worker.error, self.ctx),
                title=self.ERROR_TITLE,
                severity="error",
                markup=False,
            )
