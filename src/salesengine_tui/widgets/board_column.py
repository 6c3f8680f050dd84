"""One board column: the cards of a stage as a virtual list (only visible cards are drawn,
fetched a block at a time; see `virtual_list`)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Hashable
from datetime import datetime
from zoneinfo import ZoneInfo

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from ..deals.cards import Card, Column
from .card_lines import CARD_HEIGHT, CardStyles, card_lines
from .virtual_list import BlockRequest, VirtualList

Fetch = Callable[[uuid.UUID, BlockRequest[Card]], list[Card]]


class BoardColumn(VirtualList[Card]):
    """Cards of one stage. The screen owns the keys; the list owns drawing and paging."""

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
        & > .board-column--cursor { background: $accent 45%; }
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

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None

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
        console = self.app.console
        # `Text.render` leaves out the text's own style (only its spans are rendered): put it
        # under the spans, or a bold name or a muted title would show plain.
        strips = [
            Strip(
                [
                    Segment(" ", base),
                    *Segment.apply_style(text.render(console), console.get_style(text.style)),
                    Segment(" ", base),
                ]
            ).apply_style(base)
            for text in texts
        ]
        strips.append(Strip.blank(width, self.rich_style))
        return strips
