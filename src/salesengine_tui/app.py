"""SalesEngineApp: the shell. Six sections, each a Textual mode (its own screen stack, so each
keeps its state while you are elsewhere), reached with 1-6, the header or the command palette.
`ctrl+f` opens the search (customers, deals, tickets) over any of them.
The app itself keeps the unread notifications count and listens for new ones."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterable
from functools import partial
from typing import ClassVar

from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen, Screen

from .screens.base import APP_TITLE, SectionScreen, actor_label
from .screens.customer_search import CustomerSearch
from .screens.dashboard import DashboardScreen
from .screens.help import HelpScreen, bindings_of
from .screens.leads import LeadsScreen
from .screens.messages import AlertArrived, UnreadCounted
from .screens.notifications import NotificationsScreen
from .screens.pipeline import PipelineScreen
from .screens.search import SEARCH_KEY, open_search
from .screens.sections import PIPELINE, SECTIONS
from .screens.segments import SegmentsScreen
from .screens.tasks import TasksScreen
from .ui.display import visible, visible_lines
from .usecases import AppContext, Desk
from .widgets.app_header import AppHeader

SCREENS_BY_MODE: dict[str, type[SectionScreen]] = {
    screen.SECTION.mode: screen
    for screen in (
        PipelineScreen,
        LeadsScreen,
        SegmentsScreen,
        DashboardScreen,
        NotificationsScreen,
        TasksScreen,
    )
}


class SalesEngineApp(App[None]):
    TITLE = APP_TITLE
    CSS_PATH = "app.tcss"
    DEFAULT_MODE = PIPELINE.mode
    COMMANDS = App.COMMANDS | {CustomerSearch}
    BINDINGS: ClassVar[list[BindingType]] = [
        # The header shows the sections with their keys, so the footer leaves them out.
        *(
            Binding(
                section.key,
                f"switch_mode('{section.mode}')",
                section.title,
                id=f"go.{section.mode}",
                tooltip=f"Go to {section.path}",
                show=False,
            )
            for section in SECTIONS
        ),
        Binding(
            "question_mark",
            "help",
            "Keys",
            key_display="?",
            id="app.help",
            tooltip="List every key of this screen",
        ),
        Binding("q", "quit", "Quit", id="app.quit", tooltip="Quit SalesEngine"),
        Binding(
            SEARCH_KEY,
            "search",
            "Search",
            id="app.search",
            tooltip="Search customers (name, email, phone), deals (number, title), tickets",
        ),
    ]

    def __init__(self, ctx: AppContext, *, section: str | None = None) -> None:
        if section is not None:  # open on another section (its mode name: "leads", ...)
            if section not in SCREENS_BY_MODE:
                raise ValueError(f"unknown section {section!r}")
            self.DEFAULT_MODE = section  # read by App.__init__
        super().__init__()
        self.ctx = ctx
        self.desk = Desk(ctx)  # every action of every screen goes through it
        self.unread = 0  # the actor's unread notifications, shown on the Alerts tab
        self._stop_alerts = threading.Event()
        # Set once the alerts' LISTEN connection is up (tests wait on it instead of sleeping).
        self.alerts_listening = threading.Event()
        self.sub_title = actor_label(ctx.actor)
        for section in SECTIONS:
            # Screens are built on first visit, with the context (MODES alone cannot pass it).
            self.add_mode(section.mode, partial(SCREENS_BY_MODE[section.mode], ctx))

    def freeze_long_lived(self) -> None:
        """Move every object alive now out of the garbage collector's reach.

        Start-up leaves a few hundred thousand long-lived objects (SQLAlchemy mappers and
        compiled statements, Textual, pydantic). Each full collection walks them all: measured,
        a ~200 ms stall on about one card move in five. Frozen, they are never scanned again.
        Screens call this once their first data is on screen (no collect: that would cost the
        same pause up front). Fewer, later young collections keep the rest rare too."""
        gc.freeze()
        gc.set_threshold(20_000, 20, 20)

    def on_ready(self) -> None:
        self.freeze_long_lived()
        self.count_unread()
        if self.ctx.settings.live_updates:
            self._listen_for_alerts()

    def on_unmount(self) -> None:
        self._stop_alerts.set()

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every toast of every screen comes here (a widget's `notify` calls the app's): what
        it says is shown, never obeyed by the terminal (see `display.visible`)."""
        super().notify(
            visible_lines(message),
            title=visible(title),
            severity=severity,
            timeout=timeout,
            markup=markup,
        )

    # --- notifications: the unread count in every header, a toast when one arrives ---

    def set_unread(self, count: int) -> None:
        self.unread = count
        if not self.screen_stack:  # a count that arrives while the app shuts down
            return
        for header in self.screen.query(AppHeader):
            header.set_unread(count)

    @work(thread=True, exclusive=True, exit_on_error=False, group="alerts-count")
    def count_unread(self) -> None:
        self.post_message(UnreadCounted(self.desk.notifications.unread_count()))

    @on(UnreadCounted)
    def _unread_counted(self, message: UnreadCounted) -> None:
        self.set_unread(message.count)

    @work(thread=True, exit_on_error=False, group="alerts-live")
    def _listen_for_alerts(self) -> None:
        self.desk.notifications.listen(
            lambda arrived: self.post_message(AlertArrived(arrived)),
            self._stop_alerts,
            on_connected=self.alerts_listening.set,
        )

    @on(AlertArrived)
    def _arrived(self, message: AlertArrived) -> None:
        self.notify(message.arrived.title, title="New notification (5 to see them)", markup=False)
        self.count_unread()
        if isinstance(self.screen, NotificationsScreen | TasksScreen):
            self.screen.reload()  # My tasks: a task of mine fell due (the runner's notice)

    @on(AppHeader.TabSelected)
    def _tab_selected(self, message: AppHeader.TabSelected) -> None:
        self.switch_mode(message.mode)

    def action_search(self) -> None:
        open_search(self)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "search" and isinstance(self.screen, ModalScreen):
            return False  # not from a dialog (a form, a picker, the search itself)
        return super().check_action(action, parameters)

    def action_help(self) -> None:
        screen = self.screen
        self.push_screen(HelpScreen(screen.title or self.title, bindings_of(screen)))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        for section in SECTIONS:
            yield SystemCommand(
                f"Go to {section.title}",
                f"{section.path} (key {section.key})",
                partial(self.switch_mode, section.mode),
            )
        yield SystemCommand("Keys", "List every key of this screen (?)", self.action_help)
        # Textual's own commands (theme, screenshot, quit), but our key list instead of its panel.
        for command in super().get_system_commands(screen):
            if command.title != "Keys":
                yield command
