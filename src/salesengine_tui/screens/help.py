"""`?`: every key binding active on the screen underneath, with what it does."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import ActiveBinding, Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from ..ui.display import safe_text, visible
from ..widgets.safe_table import Column, FitTable


@dataclass(frozen=True)
class BindingInfo:
    key: str  # as shown to people, alternatives together: "⇧→ / L", "^p"
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
    """Every binding a key press would reach on `screen` now (system bindings aside), each
    once, with all the keys that reach it (after the user's keymap)."""
    app = screen.app
    active = [a for a in screen.active_bindings.values() if not a.binding.system]
    # Stable sort: within a scope, our own bindings (they have ids) before inherited ones.
    active.sort(key=lambda a: (_scope(a.node, screen), a.binding.id is None))
    # One row per thing done: the keys of one action on one node together ("⇧→ / L"), however
    # many ids or Binding rows they come from.
    grouped: dict[tuple[object, ...], list[ActiveBinding]] = {}
    for a in active:
        grouped.setdefault((id(a.node), a.binding.action, a.binding.description), []).append(a)

    def scope_name(node: object) -> str:
        if node is screen:
            return screen.title or type(screen).__name__
        if isinstance(node, App):
            return "Everywhere"
        title = getattr(node, "BINDING_GROUP_TITLE", None)  # Textual's name for a key group
        return f"In the {title or type(node).__name__}"

    return [
        BindingInfo(
            key=" / ".join(dict.fromkeys(app.get_key_display(a.binding) for a in same)),
            description=_sentence(same[0].binding.description or same[0].binding.action),
            scope=scope_name(same[0].node),
            enabled=same[0].enabled,
            tooltip=same[0].tooltip or same[0].binding.tooltip,
        )
        for same in grouped.values()
    ]


COLUMNS = [Column("key", "Key", 12), Column("does", "Does", 20), Column("more", "Details", 20)]


def _cell(text: str, style: str = "") -> Text:
    cell = safe_text(text, style=style)
    cell.no_wrap, cell.overflow = True, "ellipsis"  # cut to the column with "…"
    return cell


def help_rows(bindings: list[BindingInfo]) -> list[tuple[str, list[Text]]]:
    """The table's rows: a heading where the scope changes, then one row per binding."""
    rows: list[tuple[str, list[Text]]] = []
    scope = None
    for info in bindings:
        if info.scope != scope:
            scope = info.scope
            rows.append(
                (f"scope-{len(rows)}", [_cell(""), _cell(scope, "bold underline"), _cell("")])
            )
        style = "" if info.enabled else "dim"
        cells = [
            _cell(info.key, f"bold {style}"),
            _cell(info.description, style),
            _cell(info.tooltip, "dim"),
        ]
        rows.append((f"row-{len(rows)}", cells))
    return rows


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
            yield FitTable(COLUMNS, flex="more", id="help-keys")
            yield Static(id="help-hint")

    def on_mount(self) -> None:
        self.query_one(FitTable).replace_rows(help_rows(self.bindings))
        close = [b.key for b in bindings_of(self) if b.description == "Close"]
        self.query_one("#help-hint", Static).update(
            Content(f"{close[0] if close else 'esc'} to close")
        )
