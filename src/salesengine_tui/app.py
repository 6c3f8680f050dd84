"""SalesEngineApp: the shell. Six sections, each a Textual mode (its own screen stack, so each
keeps its state while you are elsewhere), reached with 1-6, the header or the command palette.
`ctrl+f` opens the search (customers, deals, tickets) over any of them.
The app itself keeps the unread notifications count and listens for new ones."""

from __future__ import annotations

import gc
import importlib
import threading
from collections.abc import Iterable
from functools import partial
from typing import ClassVar

from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.markup import escape
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen, Screen

from .base.settings import config_file
from .screens.base import APP_TITLE, SectionScreen, actor_label
from .screens.customer_search import CustomerSearch
from .screens.help import HelpScreen, bindings_of
from .screens.key_catalogue import check_user_keymap
from .screens.keys import current_keys, key_display, keys_display
from .screens.messages import AlertArrived, UnreadCounted
from .screens.search import SEARCH_KEY, open_search
from .screens.sections import (
    DASHBOARD,
    LEADS,
    NOTIFICATIONS,
    PIPELINE,
    SECTIONS,
    SEGMENTS,
    TASKS,
)
from .screens.theme import SIXTEEN, has_sixteen_colours, use_sixteen_colours
from .ui.display import visible, visible_lines
from .usecases import AppContext, Desk
from .widgets.app_header import AppHeader

# Each section's screen, imported on its first visit: the board's first paint does not wait
# for the other five sections' modules (measured: about 0.1 s of start-up).
SCREENS_BY_MODE: dict[str, tuple[str, str]] = {
    PIPELINE.mode: ("pipeline", "PipelineScreen"),
    LEADS.mode: ("leads", "LeadsScreen"),
    SEGMENTS.mode: ("segments", "SegmentsScreen"),
    DASHBOARD.mode: ("dashboard", "DashboardScreen"),
    NOTIFICATIONS.mode: ("notifications", "NotificationsScreen"),
    TASKS.mode: ("tasks", "TasksScreen"),
}


def section_screen(mode: str, ctx: AppContext) -> SectionScreen:
    module, name = SCREENS_BY_MODE[mode]
    screen_class = getattr(importlib.import_module(f".screens.{module}", __package__), name)
    return screen_class(ctx)


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
        self.register_theme(SIXTEEN)  # chosen on a 16-colour terminal (on_mount)
        # The user's [keymap]: what is sound applies; the rest is said at start (`salesengine`
        # prints it before the app opens, and a toast repeats it here).
        keymap = check_user_keymap(type(self), ctx.settings.keymap, config_file())
        self.keymap_problems = keymap.problems
        self.user_keymap = keymap.keymap
        self.set_keymap(keymap.keymap)
        for section in SECTIONS:
            # Screens are built on first visit, with the context (MODES alone cannot pass it).
            self.add_mode(section.mode, partial(section_screen, section.mode, ctx))

    def freeze_long_lived(self) -> None:
        """Move every object alive now out of the garbage collector's reach.

        Start-up leaves a few hundred thousand long-lived objects (SQLAlchemy mappers and
        compiled statements, Textual, pydantic). Each full collection walks them all: measured,
        a ~200 ms stall on about one card move in five. Frozen, they are never scanned again.
        Screens call this once their first data is on screen (no collect: that would cost the
        same pause up front). Fewer, later young collections keep the rest rare too."""
        gc.freeze()
        gc.set_threshold(20_000, 20, 20)

    def on_mount(self) -> None:
        # Before the first paint. Not in headless runs: tests and snapshots must not depend on
        # the TERM of whoever runs them.
        if not self.is_headless and has_sixteen_colours(self.console):
            use_sixteen_colours(self)

    def on_ready(self) -> None:
        self.freeze_long_lived()
        if self.keymap_problems:
            self.notify(
                "\n".join(self.keymap_problems),
                title="Keymap: entries ignored (the rest apply)",
                severity="warning",
                timeout=20,
                markup=False,
            )
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
        screen = self.screen
        if isinstance(screen, SectionScreen) and screen.SECTION in (NOTIFICATIONS, TASKS):
            screen.reload()  # My tasks: a task of mine fell due (the runner's notice)

    @on(AppHeader.TabSelected)
    def _tab_selected(self, message: AppHeader.TabSelected) -> None:
        self.switch_mode(message.mode)

    def get_key_display(self, binding: Binding) -> str:
        """Each key as itself (`⇧→`, `L`): the footer, `?` and the palette."""
        return binding.key_display or key_display(binding.key)

    def shown_keys(self, binding_id: str, default: str) -> str:
        """The keys of a binding as the user has them (their keymap, else `default`)."""
        return keys_display(current_keys(binding_id, default.split(","), self.user_keymap))

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
            key = escape(self.shown_keys(f"go.{section.mode}", section.key))  # help is markup
            yield SystemCommand(
                f"Go to {section.title}",
                f"{section.path} (key {key})",
                partial(self.switch_mode, section.mode),
            )
        key = escape(self.shown_keys("app.help", "question_mark"))
        yield SystemCommand("Keys", f"List every key of this screen ({key})", self.action_help)
        # Textual's own commands (theme, screenshot, quit), but our key list instead of its panel.
        for command in super().get_system_commands(screen):
            if command.title != "Keys":
                yield command
