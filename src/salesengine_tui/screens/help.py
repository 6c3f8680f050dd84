"""`?`: every key binding active on the screen underneath, with what it does."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from ..ui.display import safe_text, visible
from ..widgets.safe_table import Column, SafeTable


@dataclass(frozen=True)
class BindingInfo:
    key: str  # as shown to people: "?", "^p"
    description: str
    scope: str  # where it applies: this section, the whole app, or the focused widget
    enabled: bool
    tooltip: str


def _scope(node: object, screen: Screen[object]) -> int:
    # The screen's own keys first, then app-wide ones, then the focused widget's.
    return 0 if node is screen else 1 if isinstance(node, App) else 2


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def bindings_of(screen: Screen[object]) -> list[BindingInfo]:
    """Every binding a key press would reach on `screen` now (system bindings aside)."""
    app = screen.app
    active = [a for a in screen.active_bindings.values() if not a.binding.system]
    # Stable sort: within a scope, our own bindings (they have ids) before inherited ones.
    active.sort(key=lambda a: (_scope(a.node, screen), a.binding.id is None))

    def scope_name(node: object) -> str:
        if node is screen:
            return screen.title or type(screen).__name__
        if isinstance(node, App):
            return "Everywhere"
        title = getattr(node, "BINDING_GROUP_TITLE", None)  # Textual's name for a key group
        return f"In the {title or type(node).__name__}"

    return [
        BindingInfo(
            key=app.get_key_display(a.binding),
            description=_sentence(a.binding.description or a.binding.action),
            scope=scope_name(a.node),
            enabled=a.enabled,
            tooltip=a.tooltip or a.binding.tooltip,
        )
        for a in active
    ]


COLUMNS = [Column("key", "Key"), Column("does", "Does"), Column("more", "Details")]


class HelpScreen(ModalScreen[None]):
    """The keys of the screen it was opened over; esc, ? or q closes it."""

    CSS_PATH = "help.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "dismiss", "Close", id="help.close"),
    ]

    def __init__(self, where: str, bindings: list[BindingInfo]) -> None:
        super().__init__()
        self.where = where
        self.bindings = bindings

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Static(Content.assemble(("Keys: ", "bold"), visible(self.where)), id="help-title")
            yield SafeTable(COLUMNS, id="help-keys")
            yield Static(Content("esc, ? or q to close"), id="help-hint")

    def on_mount(self) -> None:
        table = self.query_one(SafeTable)
        scope = None
        for info in self.bindings:
            if info.scope != scope:  # a heading row where the scope changes
                scope = info.scope
                table.add_row("", safe_text(scope, style="bold underline"), "")
            style = "" if info.enabled else "dim"
            table.add_row(
                safe_text(info.key, style=f"bold {style}"),
                safe_text(info.description, style=style),
                safe_text(info.tooltip, style="dim"),
            )
