"""One board column: the cards of a stage as a virtual list (only visible cards are drawn,
fetched a block at a time; see `virtual_list`)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Hashable
from datetime import datetime
from zoneinfo import ZoneInfo

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Offset, Size
from textual.strip import Strip

from ..deals.cards import Card, Column
from .card_lines import CARD_HEIGHT, CardStyles, card_lines
from .virtual_list import BLOCK, BlockRequest, VirtualList

Fetch = Callable[[uuid.UUID, BlockRequest[Card]], list[Card]]


class BoardColumn(VirtualList[Card]):
    """Cards of one stage. The screen owns the keys; the list owns drawing and paging; the
    board (`BoardLanes`) owns the mouse: a press may start a drag, so no text selection."""

    ALLOW_SELECT = False
    ITEM_HEIGHT = CARD_HEIGHT
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
        & > .board-column--cursor { background: $accent 35%; }  /* 5:1 or more for its texts */
        & > .board-column--cursor-blurred { background: $panel-lighten-2; }
        & > .board-column--muted { color: $text-muted; }
        & > .board-column--fresh { color: $text-success; }
        & > .board-column--near { color: $text-warning; }
        & > .board-column--rotting { color: $text-error; text-style: bold; }
        & > .board-column--warn { color: $text-warning; }
    }
    """

    def __init__(
        self,
        column: Column,
        *,
        fetch: Fetch,
        now: Callable[[], datetime],
        tz: ZoneInfo,
        id: str | None = None,
    ) -> None:
        super().__init__(column.count, lambda request: fetch(self.column.id, request), id=id)
        self.column = column
        self._now = now
        self._tz = tz
        self._styles: CardStyles | None = None

    def reset(self, column: Column, *, cursor: int | None = None) -> None:
        """New figures for this stage: drop every cached card and draw again."""
        self.column = column
        self.reload(column.count, cursor=cursor)

    def patch(self, column: Column, items: dict[int, Card], *, cursor: int) -> None:
        """New figures and loaded cards after a change heard from elsewhere: the cards loaded
        stay (no page is read again); a block no longer whole is read again when drawn."""
        self.column = column
        self._count = count = column.count
        # A block read before the change would put its cards at their old places: drop it.
        self.generation += 1
        self._pending.clear()
        self._items = items

        # A block keeps counting as read though a card left it (its last place is then empty
        # until drawn: `render_line` reads a hole's block again). Dropping it instead would
        # read a page of every lane a card left, on every open board, for each move.
        self._blocks = {b for b in self._blocks | {i // BLOCK for i in items} if b * BLOCK < count}
        self._whole_cards()
        self.move_to(cursor)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None

    def index_at(self, screen: Offset) -> int | None:
        """The index of the card drawn at `screen` (a screen offset), None when none is."""
        region = self.scrollable_content_region
        if not region.contains_point(screen):
            return None
        index = (round(self.scroll_offset.y) + screen.y - region.y) // self.ITEM_HEIGHT
        return index if index < self.count else None

    # Whole cards at the top, always: scrolls go a card at a time, and the list's height is
    # padded so that its very end, too, is a card's top (not a few lines into one).

    def _whole_cards(self) -> None:
        total = self.count * self.ITEM_HEIGHT
        over = total - self.scrollable_content_region.height
        height = total + (-over % self.ITEM_HEIGHT if over > 0 else 0)
        if self.virtual_size.height != height:
            self.virtual_size = Size(self.virtual_size.width, height)

    def _scroll_to_item(self, index: int) -> None:
        self._whole_cards()
        super()._scroll_to_item(index)

    def on_resize(self) -> None:
        self._whole_cards()

    # The wheel scrolls by whole cards, so none is cut at the top; with shift it is the board's
    # (sideways, a lane at a time), so it is left to bubble up.

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        if not (event.shift or event.ctrl):
            self._wheel(event, 1)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        if not (event.shift or event.ctrl):
            self._wheel(event, -1)

    def _wheel(self, event: events.MouseEvent, cards: int) -> None:
        event.prevent_default()  # not Textual's scroll by lines
        event.stop()
        self._whole_cards()
        first = round(self.scroll_offset.y) // self.ITEM_HEIGHT + cards
        last_first = max(0, self.count - self.page_items)
        first = max(0, min(first, last_first))
        self.scroll_to(y=first * self.ITEM_HEIGHT, animate=False, force=True, immediate=True)

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

    def item_key(self, index: int, item: Card) -> Hashable:
        return (item.id, item.version)

    def item_strips(self, index: int, item: Card, width: int) -> list[Strip]:
        state = self.cursor_state(index)
        name = ("board-column--card", "board-column--cursor-blurred", "board-column--cursor")[state]
        base = self.get_component_rich_style(name)
        texts = card_lines(
            item,
            max(1, width - 2),
            now=self._now(),
            tz=self._tz,
            rotting_days=self.column.rotting_days,
            styles=self._card_styles(),
            decided="won" if self.column.is_won else "lost" if self.column.is_lost else None,
        )
        # The cursor's card is marked by a bar as well as its colour (colour alone is no signal
        # on a monochrome or colour-blind reading); a blurred lane's cursor by a thin one.
        lead = ("", "▏", "▌")[state] or " "
        console = self.app.console
        # `Text.render` leaves out the text's own style (only its spans are rendered): put it
        # under the spans, or a bold name or a muted title would show plain.
        strips = [
            Strip(
                [
                    Segment(lead, base),
                    *Segment.apply_style(text.render(console), console.get_style(text.style)),
                    Segment(" ", base),
                ]
            ).apply_style(base)
            for text in texts
        ]
        strips.append(Strip.blank(width, self.rich_style))
        return strips
