"""The top line: the app's name, the sections with their keys, and who is at the desk."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.widgets import Static


@runtime_checkable
class ShowsKeys(Protocol):
    def shown_keys(self, binding_id: str, default: str) -> str: ...


@dataclass(frozen=True)
class NavTab:
    key: str
    label: str
    mode: str


class SectionTab(Static):
    """One section's name with its key (and a count, for Alerts); clicking it goes there."""

    def __init__(self, tab: NavTab, *, current: bool) -> None:
        super().__init__(id=f"tab-{tab.mode}", classes="-current" if current else "")
        self.tab = tab
        self.current = current
        self._key = tab.key
        self.tooltip = f"Go to {tab.label} (key {tab.key})"
        self._count = 0
        self._compact = False
        self._draw()

    def set_key(self, key: str) -> None:
        """The key as the user has it (their keymap may change the default)."""
        self._key = key
        self.tooltip = f"Go to {self.tab.label} (key {key})"
        self._draw()

    def set_count(self, count: int) -> None:
        self._count = count
        self._draw()

    def set_compact(self, compact: bool) -> None:
        """Key only (the label in the tooltip): how six sections and the user's name share
        80 columns. The current section always keeps its name."""
        self._compact = compact and not self.current
        self._draw()

    def _draw(self) -> None:
        count = self._count
        badge: list[str | tuple[str, str]] = [" ", (f" {count} ", "bold reverse")] if count else []
        label = [] if self._compact else [" ", self.tab.label]
        self.update(Content.assemble((self._key, "bold"), *label, *badge))

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.post_message(AppHeader.TabSelected(self.tab.mode))


class AppHeader(Horizontal):
    """`SalesEngine  1 Pipeline  2 Leads ...          Dana Reyes · manager`."""

    DEFAULT_CSS = """
    AppHeader {
        dock: top;
        height: 1;
        background: $panel;
        color: $foreground;
        #brand {
            width: auto;
            padding: 0 1;
            text-style: bold;
            color: $text-accent;
        }
        SectionTab {
            width: auto;
            padding: 0 1;
            color: $foreground-muted;
            &:hover { background: $boost; }
            &.-current {
                background: $accent;
                color: $text;
                text-style: bold;
            }
        }
        /* On a narrow terminal the user's name matters more than ours. */
        &.-narrow #brand {
            display: none;
        }
        #user {
            width: 1fr;
            min-width: 10;
            padding: 0 1;
            text-align: right;
            text-wrap: nowrap;
            text-overflow: ellipsis;
        }
    }
    """

    @dataclass
    class TabSelected(Message):
        mode: str

    def __init__(self, *, title: str, tabs: Sequence[NavTab], current: str, user: str) -> None:
        super().__init__()
        self._title = title
        self._tabs = tuple(tabs)
        self._current = current
        self._user = user

    NARROW = 100  # columns

    def set_unread(self, count: int) -> None:
        """The unread notifications count, on the Alerts tab."""
        for tab in self.query(SectionTab):
            if tab.tab.mode == "notifications":
                tab.set_count(count)

    def on_mount(self) -> None:
        if isinstance(self.app, ShowsKeys):  # the sections' keys after the user's keymap
            for tab in self.query(SectionTab):
                tab.set_key(self.app.shown_keys(f"go.{tab.tab.mode}", tab.tab.key))

    def on_resize(self, event: events.Resize) -> None:
        narrow = event.size.width < self.NARROW
        self.set_class(narrow, "-narrow")
        for tab in self.query(SectionTab):
            tab.set_compact(narrow)

    def compose(self) -> ComposeResult:
        yield Static(Content(self._title), id="brand")
        for tab in self._tabs:
            yield SectionTab(tab, current=tab.mode == self._current)
        # Content(...) not markup: the user's name is data.
        yield Static(Content(self._user), id="user")
