"""Command palette providers: the current screen's commands, shown without markup."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from typing import NamedTuple, Protocol, runtime_checkable

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.markup import escape

from ..ui.display import visible
from ..widgets.app_header import ShowsKeys
from .keys import Key, keys_display, split_keys


class PaletteCommand(NamedTuple):
    title: str  # may hold data (a pipeline's name): it is never read as markup
    help: str  # our own words only: the palette reads help as markup
    callback: Callable[[], object]
    discover: bool = True  # listed before anything is typed
    # The binding that does the same, named by id: the help ends with its keys as the user has
    # them (after their keymap), "(key ⇧→ / L)"; `keys` are its default ones.
    key_id: str | None = None
    keys: str = ""


def from_keys(
    run_action: Callable[[str], object], rows: Sequence[tuple], *, skip: Iterable[str] = ()
) -> Iterator[PaletteCommand]:
    """A screen's keys (bindings as data) offered in the palette too: one list, two ways in."""
    skipped = set(skip)
    for row in rows:
        key = Key(*row)
        if key.action not in skipped:
            action = partial(run_action, key.action)
            yield PaletteCommand(key.tooltip, key.description, action, key_id=key.id, keys=key.keys)


def key_of(rows: Sequence[tuple], key_id: str) -> str:
    """The default keys of the row with this id (for a palette command that names them)."""
    return next(Key(*row).keys for row in rows if Key(*row).id == key_id)


def help_of(command: PaletteCommand, app: object) -> str:
    """The command's help, with the keys that do the same as the user has them."""
    if command.key_id is None:
        return command.help
    if isinstance(app, ShowsKeys):
        shown = app.shown_keys(command.key_id, command.keys)
    else:
        shown = keys_display(split_keys(command.keys))
    return f"{command.help} (key {escape(shown)})"  # escaped: help is read as markup


@runtime_checkable
class HasPaletteCommands(Protocol):
    def palette_commands(self) -> Iterable[PaletteCommand]: ...


class ScreenCommands(Provider):
    """Offers `palette_commands()` of the screen the palette was opened on."""

    def _commands(self) -> list[PaletteCommand]:
        screen = self.screen
        return list(screen.palette_commands()) if isinstance(screen, HasPaletteCommands) else []

    async def discover(self) -> Hits:
        for command in self._commands():
            if command.discover:
                title = visible(command.title)
                help_ = help_of(command, self.app)
                yield DiscoveryHit(Content(title), command.callback, text=title, help=help_)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands():
            title = visible(command.title)
            # Not matcher.highlight(): it parses the candidate as markup.
            score, offsets = matcher.fuzzy_search.match(matcher.query, title)
            if score > 0:
                display = Content(title)
                for offset in offsets:
                    display = display.stylize(matcher.match_style, offset, offset + 1)
                help_ = help_of(command, self.app)
                yield Hit(score, display, command.callback, text=title, help=help_)
