"""One board column: a virtual list of cards drawn with Textual's line API.

Only the lines on screen are rendered, and cards arrive a block at a time from a fetch
function the screen supplies (run in a thread worker), so a column of 100,000 estimates
costs what a column of 10 does. The column keeps a cursor (a card index) and a small cache of
blocks around it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from rich.segment import Segment
from rich.style import Style
from textual import events, on
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ..board import Card, Column
from .card_lines import CARD_HEIGHT, CardStyles, card_lines

BLOCK = 100  # cards per fetch
KEEP_BLOCKS = 12  # blocks cached per column; the farthest from the cursor go first


@dataclass(frozen=True)
class BlockRequest:
    """Which cards to fetch: continue after / before a loaded card, read from the end, or
    jump by offset when nothing near is loaded."""

    after: Card | None = None
    before: Card | None = None
    from_end: bool = False
    offset: int = 0
    limit: int = BLOCK


Fetch = Callable[[uuid.UUID, BlockRequest], list[Card]]


class BoardColumn(ScrollView, can_focus=True, inherit_bindings=False):
    """Cards of one stage. The screen owns the keys; this widget owns drawing and paging."""

    COMPONENT_CLASSES = {
        "board-column--card",
        "board-column--cursor",
        "board-column--cursor-blurred",
        "board-column--muted",
        "board-column--fresh",
        "board-column--near",
        "board-column--rotting",
        "board-column--warn",
    }
    DEFAULT_CSS = """
    BoardColumn {
        height: 1fr;
        overflow-x: hidden;
        overflow-y: auto;
        scrollbar-size-vertical: 1;
        background: $surface;
        & > .board-column--card { background: $panel; }
        & > .board-column--cursor { background: $accent 45%; }
        & > .board-column--cursor-blurred { background: $panel-lighten-2; }
        & > .board-column--muted { color: $text-muted; }
        & > .board-column--fresh { color: $text-success; }
        & > .board-column--near { color: $text-warning; }
        & > .board-column--rotting { color: $text-error; text-style: bold; }
        & > .board-column--warn { color: $text-warning; }
    }
    """

    @dataclass
    class BlockLoaded(Message):
        column: BoardColumn
        generation: int
        block: int
        cards: list[Card]

    @dataclass
    class Selected(Message):
        """The cursor moved to a card (or the column became current)."""

        column: BoardColumn

    def __init__(
        self,
        column: Column,
        *,
        fetch: Fetch,
        now: Callable[[], datetime],
        tz: ZoneInfo,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.column = column
        self._fetch = fetch
        self._now = now
        self._tz = tz
        self.cursor = 0
        self.generation = 0
        self._cards: dict[int, Card] = {}
        self._blocks: set[int] = set()
        self._pending: set[int] = set()
        self._lines: dict[tuple[uuid.UUID, int, int, int], list[Strip]] = {}
        self._styles: CardStyles | None = None

    # --- data ---------------------------------------------------------------------------

    @property
    def count(self) -> int:
        return self.column.count

    @property
    def current(self) -> Card | None:
        return self._cards.get(self.cursor)

    def reset(self, column: Column, *, cursor: int | None = None) -> None:
        """New figures for this stage: drop every cached card and draw again."""
        self.column = column
        self.generation += 1
        self._cards.clear()
        self._blocks.clear()
        self._pending.clear()
        self._lines.clear()
        self.virtual_size = Size(0, column.count * CARD_HEIGHT)
        self.move_to(self.cursor if cursor is None else cursor)
        self.refresh()

    def _request(self, block: int) -> BlockRequest:
        start = block * BLOCK
        if block - 1 in self._blocks and start - 1 in self._cards:
            return BlockRequest(after=self._cards[start - 1])
        end = start + BLOCK
        if block + 1 in self._blocks and end in self._cards:
            return BlockRequest(before=self._cards[end])
        if end >= self.count:
            return BlockRequest(from_end=True, limit=self.count - start)
        return BlockRequest(offset=start)

    def _ensure(self, block: int) -> None:
        if block in self._blocks or block in self._pending or block * BLOCK >= self.count:
            return
        self._pending.add(block)
        generation, request = self.generation, self._request(block)
        stage_id = self.column.id

        def load() -> None:
            cards = self._fetch(stage_id, request)
            self.post_message(self.BlockLoaded(self, generation, block, cards))

        self.run_worker(load, thread=True, group=f"cards-{stage_id}", exit_on_error=False)

    @on(BlockLoaded)
    def _loaded(self, message: BlockLoaded) -> None:
        message.stop()
        if message.generation != self.generation:
            return  # a reset happened since: these cards may be stale
        self._pending.discard(message.block)
        self._blocks.add(message.block)
        start = message.block * BLOCK
        for offset, card in enumerate(message.cards):
            self._cards[start + offset] = card
        self._evict()
        self.refresh()
        if self.cursor // BLOCK == message.block:
            self.post_message(self.Selected(self))

    def _evict(self) -> None:
        if len(self._blocks) <= KEEP_BLOCKS:
            return
        here = self.cursor // BLOCK
        for block in sorted(self._blocks, key=lambda b: abs(b - here))[KEEP_BLOCKS:]:
            self._blocks.discard(block)
            for index in range(block * BLOCK, (block + 1) * BLOCK):
                self._cards.pop(index, None)

    # --- cursor -------------------------------------------------------------------------

    def move_to(self, index: int) -> None:
        """Put the cursor on card `index` (clamped) and scroll it into view."""
        index = max(0, min(index, self.count - 1)) if self.count else 0
        old, self.cursor = self.cursor, index
        self._ensure(index // BLOCK)
        self._refresh_card(old)
        self._refresh_card(index)
        if self.count:
            self._scroll_to_card(index)
        self.post_message(self.Selected(self))

    def _scroll_to_card(self, index: int) -> None:
        """Keep card `index` in view, scrolling by whole cards so none is cut at the top."""
        shown = self.page_cards
        first = round(self.scroll_offset.y) // CARD_HEIGHT
        if index < first:
            first = index
        elif index >= first + shown:
            first = index - shown + 1
        else:
            return
        self.scroll_to(y=first * CARD_HEIGHT, animate=False, force=True, immediate=True)

    def move_by(self, delta: int) -> None:
        self.move_to(self.cursor + delta)

    @property
    def page_cards(self) -> int:
        return max(1, self.scrollable_content_region.height // CARD_HEIGHT)

    def _refresh_card(self, index: int) -> None:
        top = index * CARD_HEIGHT - round(self.scroll_offset.y)
        self.refresh(Region(0, top, self.size.width, CARD_HEIGHT))

    def on_focus(self) -> None:
        self.refresh()
        self.post_message(self.Selected(self))

    def on_blur(self) -> None:
        self.refresh()

    def on_click(self, event: events.Click) -> None:
        index = (round(self.scroll_offset.y) + event.y) // CARD_HEIGHT
        if index < self.count:
            self.move_to(index)

    def on_resize(self) -> None:
        self._lines.clear()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None
        self._lines.clear()

    # --- drawing ------------------------------------------------------------------------

    def _card_styles(self) -> CardStyles:
        if self._styles is None:

            def style(name: str) -> Style:
                return self.get_component_rich_style(f"board-column--{name}", partial=True)

            self._styles = CardStyles(
                card=self.get_component_rich_style("board-column--card"),
                muted=style("muted"),
                fresh=style("fresh"),
                near=style("near"),
                rotting=style("rotting"),
                warn=style("warn"),
            )
        return self._styles

    def _strips(self, index: int, card: Card, width: int) -> list[Strip]:
        if index == self.cursor:
            name = "board-column--cursor" if self.has_focus else "board-column--cursor-blurred"
            state = 2 if self.has_focus else 1
        else:
            name, state = "board-column--card", 0
        key = (card.id, card.version, width, state)
        strips = self._lines.get(key)
        if strips is None:
            styles = self._card_styles()
            base = self.get_component_rich_style(name)
            inner = max(1, width - 2)
            texts = card_lines(
                card,
                inner,
                now=self._now(),
                tz=self._tz,
                rotting_days=self.column.rotting_days,
                styles=styles,
            )
            console = self.app.console
            strips = [
                Strip([Segment(" ", base), *text.render(console), Segment(" ", base)]).apply_style(
                    base
                )
                for text in texts
            ]
            strips.append(Strip.blank(width, self.rich_style))
            if len(self._lines) > 400:
                self._lines.clear()
            self._lines[key] = strips
        return strips

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        line = round(self.scroll_offset.y) + y
        index, row = divmod(line, CARD_HEIGHT)
        if index >= self.count:
            return Strip.blank(width, self.rich_style)
        card = self._cards.get(index)
        if card is None:
            self.call_later(self._ensure, index // BLOCK)
            if row == 0:
                return Strip([Segment("  …", self.rich_style)]).adjust_cell_length(
                    width, self.rich_style
                )
            return Strip.blank(width, self.rich_style)
        return self._strips(index, card, width)[row]
