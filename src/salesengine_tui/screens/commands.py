"""Command palette providers: the current screen's commands, shown without markup."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from typing import NamedTuple, Protocol, runtime_checkable

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from ..ui.display import visible
from .keys import KEY_DISPLAY, Key


class PaletteCommand(NamedTuple):
    title: str  # may hold data (a pipeline's name): it is never read as markup
    help: str  # our own words only: the palette reads help as markup
    callback: Callable[[], object]
    discover: bool = True  # listed before anything is typed


def from_keys(
    run_action: Callable[[str], object], rows: Sequence[tuple], *, skip: Iterable[str] = ()
) -> Iterator[PaletteCommand]:
    """A screen's keys (bindings as data) offered in the palette too: one list, two ways in."""
    skipped = set(skip)
    for row in rows:
        key = Key(*row)
        if key.action in skipped:
            continue
        first = key.keys.split(",")[0]
        shown = KEY_DISPLAY.get(first, first)
        help_ = f"{key.description} (key {shown})"
        yield PaletteCommand(key.tooltip, help_, partial(run_action, key.action))


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
                yield DiscoveryHit(Content(title), command.callback, text=title, help=command.help)

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
                yield Hit(score, display, command.callback, text=title, help=command.help)
