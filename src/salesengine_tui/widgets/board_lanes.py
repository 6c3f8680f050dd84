"""The board's lanes side by side: one `BoardColumn` per stage under a header with the stage's
figures, and the lane strip (`lane_strip`) under them when not all fit.

The board shows whole lanes only: as many as fit at LANE_MIN cells or more share the width, the
others are hidden, and moving to one brings it in (by whole lanes: never a lane cut at an edge).
The mouse is the board's too (`board_pointer`): click, double-click, drag a card to a lane.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static

from ..deals.cards import Column
from ..ui.display import money, plural, visible
from .board_column import BoardColumn
from .board_pointer import BoardPointer
from .lane_strip import LaneStrip

LANE_MIN = 30  # cells: a card stays readable at this width
GAP = 1  # cells between two lanes


def lanes_that_fit(room: int, count: int) -> int:
    """How many lanes of at least LANE_MIN cells, a gap between each two, fit in `room`."""
    return max(1, min(count, (room + GAP) // (LANE_MIN + GAP)))


class LaneHeader(Static):
    ALLOW_SELECT = False  # a press here may be the start of a drag


class BoardLanes(BoardPointer, Vertical, inherit_bindings=False):
    """No keys of its own: the arrows belong to the board's cursor (the screen's)."""

    ALLOW_SELECT = False

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.first = 0  # the first lane shown
        self.shown = 1  # how many are shown

    def compose(self) -> ComposeResult:
        yield Horizontal(id="board-row")
        yield LaneStrip(id="lane-strip")

    @property
    def lanes(self) -> list[BoardColumn]:
        return list(self.query(BoardColumn))

    @property
    def boxes(self) -> list[Widget]:
        """Each lane's box (its header and its column), in stage order."""
        return list(self.query(".lane"))

    @property
    def strip(self) -> LaneStrip:
        return self.query_one(LaneStrip)

    @property
    def current(self) -> BoardColumn | None:
        """The focused lane, else the first (None: no lanes)."""
        lanes = self.lanes
        focused = next((lane for lane in lanes if lane.has_focus), None)
        return focused or (lanes[0] if lanes else None)

    async def set_columns(
        self, columns: list[Column], new_lane: Callable[[Column], BoardColumn]
    ) -> list[BoardColumn]:
        """Lanes for `columns`: the ones shown when the stages are the same (the caller resets
        them), else new ones from `new_lane`."""
        lanes = self.lanes
        if [lane.column.id for lane in lanes] != [c.id for c in columns]:
            row = self.query_one("#board-row")
            await row.remove_children()
            self.first = 0
            lanes = [new_lane(column) for column in columns]
            await row.mount_all(
                Vertical(LaneHeader(classes="lane-header"), lane, classes="lane") for lane in lanes
            )
        self.fit()
        return lanes

    # --- which lanes are shown -------------------------------------------------------------

    def fit(self) -> None:
        """As many whole lanes as fit share the width; the focused one stays in view."""
        count = len(self.boxes)
        room = self.size.width or self.screen.size.width
        self.shown = lanes_that_fit(room, count)
        focused = next((i for i, lane in enumerate(self.lanes) if lane.has_focus), None)
        self._window(self.first if focused is None else focused)

    def on_resize(self) -> None:
        self.fit()

    def show(self, lane: BoardColumn) -> None:
        """Bring `lane` in, the fewest lanes along."""
        lanes = self.lanes
        if lane in lanes:
            self._window(lanes.index(lane))

    def shift(self, delta: int) -> None:
        """Show the next lanes `delta` lanes along; focus stays on a lane in view."""
        self.first += delta
        self._window(None)
        lanes, last = self.lanes, self.first + self.shown - 1
        focused = next((i for i, lane in enumerate(lanes) if lane.has_focus), None)
        if focused is not None and not self.first <= focused <= last:
            lanes[max(self.first, min(focused, last))].focus()

    def _window(self, keep: int | None) -> None:
        """Show lanes first..first + shown - 1, moved the least so lane `keep` is among them."""
        boxes = self.boxes
        if keep is not None:
            if keep < self.first:
                self.first = keep
            elif keep >= self.first + self.shown:
                self.first = keep - self.shown + 1
        self.first = max(0, min(self.first, len(boxes) - self.shown))
        for index, box in enumerate(boxes):
            box.display = self.first <= index < self.first + self.shown
            box.set_class(index == self.first, "-first-shown")
        strip = self.strip
        strip.display = self.shown < len(boxes)
        strip.show_window(
            [visible(lane.column.name) for lane in self.lanes], self.first, self.shown
        )

    def is_shown(self, index: int) -> bool:
        return self.first <= index < self.first + self.shown

    # --- the lane strip and the sideways wheel ---------------------------------------------

    @on(LaneStrip.Picked)
    def _picked(self, message: LaneStrip.Picked) -> None:
        message.stop()
        lane = self.lanes[message.index]
        self.show(lane)
        lane.focus()

    @on(LaneStrip.Shift)
    def _shifted(self, message: LaneStrip.Shift) -> None:
        message.stop()
        self.shift(message.delta)

    def on_mouse_scroll_right(self, event: events.MouseScrollRight) -> None:
        event.stop()
        self.shift(1)

    def on_mouse_scroll_left(self, event: events.MouseScrollLeft) -> None:
        event.stop()
        self.shift(-1)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        if event.shift or event.ctrl:  # shift+wheel: sideways, as in most apps
            event.stop()
            self.shift(1)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        if event.shift or event.ctrl:
            event.stop()
            self.shift(-1)

    def mark_current(self, current: BoardColumn) -> None:
        """The lane with the cursor: its header marked (a class, not `:focus-within`, whose
        styles were seen to lag a focus change by one lane)."""
        for lane in self.lanes:
            box = lane.parent
            assert box is not None
            box.set_class(lane is current, "-current")

    def mark_drop(self, target: int | None) -> None:
        """The lane a dragged card would land in: its box outlined, its header says so, its
        name marked on the strip (None: no lane)."""
        for index, lane in enumerate(self.lanes):
            box = lane.parent
            assert box is not None
            dropping = index == target
            if box.has_class("-drop-target") != dropping:
                box.set_class(dropping, "-drop-target")
                self.paint_header(lane)
        self.strip.mark_drop(target)

    # --- headers ---------------------------------------------------------------------------

    @staticmethod
    def paint_header(lane: BoardColumn) -> None:
        """The stage's name, probability, count, value and weighted value over its lane; while
        a card is dragged over it, that it would land here instead of the figures."""
        column, box = lane.column, lane.parent
        assert box is not None
        kind = " · won" if column.is_won else " · lost" if column.is_lost else ""
        name = Content.assemble(
            (visible(column.name), "bold"), (f"  {column.probability}%{kind}", "dim")
        )
        if box.has_class("-drop-target"):
            header = Content.assemble(
                name, "\n", ("▼ Drop here to move", "bold"), "\n", "release: move · esc: cancel"
            )
        else:
            header = Content.assemble(
                name,
                "\n",
                f"{plural(column.count, 'deal')} · {money(column.total_value)}",
                "\n",
                (f"weighted {money(column.weighted_value)}", "dim"),
            )
        box.query_one(LaneHeader).update(header)
