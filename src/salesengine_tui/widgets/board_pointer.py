"""The board and the mouse: a click selects a card, a double-click opens it, and a card pressed
and dragged to another lane is dropped there.

The board (not a lane) holds the mouse from the press on a card to the release
(`capture_mouse`), so the moves and the release arrive wherever the pointer goes: over another
lane, the lane strip (a lane off screen; its arrows bring the next lanes in), or outside the
board. Terminals report these through the mouse protocol Textual turns on (SGR, with motion
while a button is held: xterm, GNOME Terminal, tmux, over SSH too). Only the pointer's screen
position is used: the same events reach us whether the board holds the mouse or not.

The board decides nothing about the move: it tells the screen (`Dropped`), which moves the card
as the keys do. A release on the card's own lane, or outside every lane, changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.geometry import Offset
from textual.message import Message
from textual.widget import Widget

from ..deals.cards import Card, Column
from .board_column import BoardColumn
from .lane_strip import LaneStrip


@dataclass
class Press:
    """A card pressed, maybe being dragged."""

    lane: BoardColumn
    card: Card
    dragging: bool = False  # the pointer has left the card's lane since the press
    target: int | None = None  # the lane (index) the card would land in
    arrow: int | None = None  # the strip arrow under the pointer (-1, 1)


class BoardPointer(Widget):
    """The mouse half of `BoardLanes`: what is where, and the drag under way."""

    @dataclass
    class CardClicked(Message):
        lane: BoardColumn
        index: int
        chain: int  # 2: a double-click

    @dataclass
    class DragOver(Message):
        """A dragged card is over `target` (None: over no lane it could move to)."""

        card: Card
        source: Column
        target: Column | None

    @dataclass
    class Dropped(Message):
        """A dragged card was released over `target` (None: outside a lane, or its own)."""

        card: Card
        source: Column
        target: Column | None

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.press: Press | None = None
        self._ignore_click_at: Offset | None = None

    # What the lanes provide (`BoardLanes`).

    @property
    def lanes(self) -> list[BoardColumn]:
        raise NotImplementedError

    @property
    def strip(self) -> LaneStrip:
        raise NotImplementedError

    def is_shown(self, index: int) -> bool:
        raise NotImplementedError

    def shift(self, delta: int) -> None:
        raise NotImplementedError

    def mark_drop(self, target: int | None) -> None:
        """Show (or stop showing) where a dragged card would land."""
        raise NotImplementedError

    # --- what is under the pointer ---------------------------------------------------------

    def _card_at(self, at: Offset) -> tuple[BoardColumn, int] | None:
        for index, lane in enumerate(self.lanes):
            if self.is_shown(index) and (card := lane.index_at(at)) is not None:
                return lane, card
        return None

    def _drop_at(self, at: Offset) -> tuple[int | None, int | None]:
        """(The lane a card would land in, the strip arrow) at screen offset `at`."""
        for index, lane in enumerate(self.lanes):
            if self.is_shown(index) and lane.parent and lane.parent.region.contains_point(at):
                return index, None
        strip = self.strip
        if strip.display and strip.region.contains_point(at):
            hit = strip.target_at(at.x)
            if hit is not None:
                kind, value = hit
                return (value, None) if kind == "lane" else (None, value)
        return None, None

    # --- press, drag, release --------------------------------------------------------------

    def on_mouse_down(self, event: events.MouseDown) -> None:
        self._ignore_click_at = None
        self._end()  # a release that never came (the pointer left the window)
        if event.button != 1 or (hit := self._card_at(event.screen_offset)) is None:
            return
        lane, index = hit
        card = lane.item(index)
        if card is None:  # not loaded yet
            return
        lane.move_to(index)
        self.press = Press(lane, card)
        self.capture_mouse()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        press = self.press
        if press is None:
            return
        at = event.screen_offset
        box = press.lane.parent
        started = not press.dragging
        if started:
            if box is not None and box.region.contains_point(at):
                return  # still on its own lane: perhaps a click
            press.dragging = True
        target, arrow = self._drop_at(at)
        if arrow is not None and arrow != press.arrow:
            self.shift(arrow)  # the next lane that way comes into view
        press.arrow = arrow
        lanes = self.lanes
        if target is not None and lanes[target] is press.lane:
            target = None
        if started or target != press.target:
            press.target = target
            self.mark_drop(target)
            column = lanes[target].column if target is not None else None
            self.post_message(self.DragOver(press.card, press.lane.column, column))

    def on_mouse_up(self, event: events.MouseUp) -> None:
        press = self.press
        if press is None:
            return
        self._end()
        if not press.dragging:
            return  # a click: `Click` follows
        # A click can follow on the card's own lane: it is the drag's end, not a click.
        self._ignore_click_at = event.screen_offset
        target, _ = self._drop_at(event.screen_offset)
        lanes = self.lanes
        column = lanes[target].column if target is not None else None
        if column is not None and column.id == press.lane.column.id:
            column = None
        self.post_message(self.Dropped(press.card, press.lane.column, column))

    def on_mouse_release(self, event: events.MouseRelease) -> None:
        # The mouse was taken from us (a dialog opened, say): the drag is over, nothing moved.
        press = self.press
        if press is not None and self.app.mouse_captured is not self and self.cancel_drag():
            self.post_message(self.Dropped(press.card, press.lane.column, None))

    def cancel_drag(self) -> bool:
        """End a drag with nothing moved (esc); True when one was under way."""
        press = self.press
        self._end()
        return press is not None and press.dragging

    def _end(self) -> None:
        if self.press is None:
            return
        if self.press.dragging:
            self.mark_drop(None)
        self.press = None
        self.release_mouse()

    # --- clicks ----------------------------------------------------------------------------

    def on_click(self, event: events.Click) -> None:
        at = event.screen_offset
        if at == self._ignore_click_at:
            self._ignore_click_at = None
            event.stop()
            return
        hit = self._card_at(at)
        if hit is not None:
            event.stop()
            lane, index = hit
            self.post_message(self.CardClicked(lane, index, event.chain))
