"""A virtual list on Textual's line API: any number of items, only the visible ones drawn.

Items arrive a block at a time from a fetch function the screen supplies (run in a thread
worker), continuing from a loaded neighbour (keyset) where one is cached and by offset only for
jumps. The list keeps a cursor (an item index) and a small cache of blocks around it.
Subclasses say how tall an item is and how to draw one (`item_strips`).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import ClassVar, Generic, TypeVar

from rich.segment import Segment
from textual import events, on
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

T = TypeVar("T")

BLOCK = 100  # items per fetch
KEEP_BLOCKS = 12  # blocks cached; the farthest from the cursor go first


@dataclass(frozen=True)
class BlockRequest(Generic[T]):
    """Which items to fetch: continue after / before a loaded item, read from the end, or
    jump by offset when nothing near is loaded."""

    after: T | None = None
    before: T | None = None
    from_end: bool = False
    offset: int = 0
    limit: int = BLOCK


def cold_request(block: int, count: int) -> BlockRequest[T]:
    """How to fetch `block` of `count` items when no neighbour is loaded."""
    start = block * BLOCK
    if start + BLOCK >= count:
        return BlockRequest(from_end=True, limit=max(0, count - start))
    return BlockRequest(offset=start)


class VirtualList(ScrollView, Generic[T], can_focus=True, inherit_bindings=False):
    """The screen owns the keys (no bindings here: each screen binds `j`/`k` and the arrows
    to its cursor); this widget owns drawing, paging and the mouse."""

    ITEM_HEIGHT: ClassVar[int] = 1

    @dataclass
    class BlockLoaded(Message):
        list: VirtualList[object]
        generation: int
        block: int
        items: list[object]

    @dataclass
    class Selected(Message):
        """The cursor moved (or the list became current)."""

        list: VirtualList[object]

    @dataclass
    class Opened(Message):
        """The item under the cursor was double-clicked."""

        list: VirtualList[object]

    def __init__(
        self,
        count: int,
        fetch: Callable[[BlockRequest[T]], list[T]],
        *,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self._count = count
        self._fetch = fetch
        self.cursor = 0
        self.generation = 0
        self._items: dict[int, T] = {}
        self._blocks: set[int] = set()
        self._pending: set[int] = set()
        self._lines: dict[Hashable, list[Strip]] = {}

    # --- data ---------------------------------------------------------------------------

    @property
    def count(self) -> int:
        return self._count

    @property
    def current(self) -> T | None:
        return self._items.get(self.cursor)

    def item(self, index: int) -> T | None:
        return self._items.get(index)

    @property
    def loaded(self) -> dict[int, T]:
        return self._items

    def reload(self, count: int, *, cursor: int | None = None) -> None:
        """The data changed: drop every cached item and draw again."""
        self._count = count
        self.generation += 1
        self._items.clear()
        self._blocks.clear()
        self._pending.clear()
        self._lines.clear()
        self.virtual_size = Size(0, count * self.ITEM_HEIGHT)
        self.move_to(self.cursor if cursor is None else cursor)
        self.refresh()

    def _request(self, block: int) -> BlockRequest[T]:
        start = block * BLOCK
        if block - 1 in self._blocks and start - 1 in self._items:
            return BlockRequest(after=self._items[start - 1])
        end = start + BLOCK
        if block + 1 in self._blocks and end in self._items:
            return BlockRequest(before=self._items[end])
        return cold_request(block, self.count)

    def _ensure(self, block: int) -> None:
        if block in self._blocks or block in self._pending or block * BLOCK >= self.count:
            return
        self._pending.add(block)
        generation, request, fetch = self.generation, self._request(block), self._fetch

        def load() -> None:
            items = fetch(request)
            self.post_message(self.BlockLoaded(self, generation, block, items))  # type: ignore[arg-type]

        self.run_worker(load, thread=True, group=f"blocks-{id(self)}", exit_on_error=False)

    @on(BlockLoaded)
    def _loaded(self, message: BlockLoaded) -> None:
        if message.list is not self:
            return
        message.stop()
        if message.generation != self.generation:
            return  # a reload happened since: these items may be stale
        self._pending.discard(message.block)
        self._blocks.add(message.block)
        start = message.block * BLOCK
        for offset, item in enumerate(message.items):
            self._items[start + offset] = item  # type: ignore[assignment]
        self._evict()
        self.refresh()
        if self.cursor // BLOCK == message.block:
            self.post_message(self.Selected(self))  # type: ignore[arg-type]

    def _evict(self) -> None:
        if len(self._blocks) <= KEEP_BLOCKS:
            return
        here = self.cursor // BLOCK
        for block in sorted(self._blocks, key=lambda b: abs(b - here))[KEEP_BLOCKS:]:
            self._blocks.discard(block)
            for index in range(block * BLOCK, (block + 1) * BLOCK):
                self._items.pop(index, None)

    # --- cursor -------------------------------------------------------------------------

    def move_to(self, index: int) -> None:
        """Put the cursor on item `index` (clamped) and scroll it into view."""
        index = max(0, min(index, self.count - 1)) if self.count else 0
        self.cursor = index
        self._ensure(index // BLOCK)
        if self.count:
            self._scroll_to_item(index)
        # The whole viewport: a partial refresh of the old line was seen to leave it drawn as
        # the cursor; visible items come from the strip cache, so this costs little.
        self.refresh()
        self.post_message(self.Selected(self))  # type: ignore[arg-type]

    def move_by(self, delta: int) -> None:
        self.move_to(self.cursor + delta)

    def _scroll_to_item(self, index: int) -> None:
        """Keep item `index` in view, scrolling by whole items so none is cut at the top."""
        shown = self.page_items
        first = round(self.scroll_offset.y) // self.ITEM_HEIGHT
        if index < first:
            first = index
        elif index >= first + shown:
            first = index - shown + 1
        else:
            return
        self.scroll_to(y=first * self.ITEM_HEIGHT, animate=False, force=True, immediate=True)

    @property
    def page_items(self) -> int:
        return max(1, self.scrollable_content_region.height // self.ITEM_HEIGHT)

    def refresh_item(self, index: int) -> None:
        top = index * self.ITEM_HEIGHT - round(self.scroll_offset.y)
        self.refresh(Region(0, top, self.size.width, self.ITEM_HEIGHT))

    def on_focus(self) -> None:
        self.refresh()
        self.post_message(self.Selected(self))  # type: ignore[arg-type]

    def on_blur(self) -> None:
        self.refresh()

    def on_click(self, event: events.Click) -> None:
        """A click puts the cursor on the item; a double-click opens it too (`Opened`: the
        screen runs what its `enter` does). The wheel scrolls (ScrollView's own)."""
        index = (round(self.scroll_offset.y) + event.y) // self.ITEM_HEIGHT
        if index < self.count:
            self.move_to(index)
            if event.chain == 2:
                self.post_message(self.Opened(self))  # type: ignore[arg-type]

    def on_resize(self) -> None:
        self._lines.clear()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._lines.clear()

    # --- drawing ------------------------------------------------------------------------

    def cursor_state(self, index: int) -> int:
        """0: a plain item, 1: the cursor in a list without focus, 2: the focused cursor."""
        if index != self.cursor:
            return 0
        return 2 if self.has_focus else 1

    def item_key(self, index: int, item: T) -> Hashable:
        """What identifies an item's drawing (with its cursor state and the width)."""
        return id(item)

    def item_strips(self, index: int, item: T, width: int) -> list[Strip]:
        """ITEM_HEIGHT strips, each `width` cells."""
        raise NotImplementedError

    def _strips(self, index: int, item: T, width: int) -> list[Strip]:
        key = (self.item_key(index, item), width, self.cursor_state(index))
        strips = self._lines.get(key)
        if strips is None:
            if len(self._lines) > 400:
                self._lines.clear()
            # The list's own colours under each item's: a cell left without a colour would
            # show the terminal's default (black on white in a default xterm).
            strips = self._lines[key] = [
                strip.apply_style(self.rich_style) for strip in self.item_strips(index, item, width)
            ]
        return strips

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        line = round(self.scroll_offset.y) + y
        index, row = divmod(line, self.ITEM_HEIGHT)
        if index >= self.count:
            return Strip.blank(width, self.rich_style)
        item = self._items.get(index)
        if item is None:
            # A hole in a block read before (a card that left, patched in from elsewhere):
            # read that block again.
            self._blocks.discard(index // BLOCK)
            self.call_later(self._ensure, index // BLOCK)
            if row == 0:
                return Strip([Segment("  …", self.rich_style)]).adjust_cell_length(
                    width, self.rich_style
                )
            return Strip.blank(width, self.rich_style)
        return self._strips(index, item, width)[row]
