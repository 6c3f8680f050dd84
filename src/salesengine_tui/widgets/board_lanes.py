"""The board's lanes side by side: one `BoardColumn` per stage under a header with the stage's
figures. Lanes share the width, each at least LANE_MIN wide; when they do not fit, the board
scrolls sideways and follows the focused lane."""

from __future__ import annotations

from collections.abc import Callable

from textual.containers import HorizontalScroll, Vertical
from textual.content import Content
from textual.widgets import Static

from ..deals.cards import Column
from ..ui.display import money, plural, visible
from .board_column import BoardColumn

LANE_MIN = 30  # cells: a card stays readable at this width


class BoardLanes(HorizontalScroll, inherit_bindings=False):
    """No keys of its own: the arrows belong to the board's cursor (the screen's)."""

    @property
    def lanes(self) -> list[BoardColumn]:
        return list(self.query(BoardColumn))

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
            await self.remove_children()
            lanes = []
            for column in columns:
                lane = new_lane(column)
                lanes.append(lane)
                await self.mount(Vertical(Static(classes="lane-header"), lane, classes="lane"))
        self.fit()
        return lanes

    def fit(self) -> None:
        """Share the width between the lanes, each at least LANE_MIN wide."""
        boxes = list(self.query(".lane"))
        if not boxes:
            return
        room = self.size.width or self.screen.size.width
        width = max(LANE_MIN, room // len(boxes) - 1)
        for box in boxes:
            box.styles.width = width

    def show(self, lane: BoardColumn) -> None:
        """Scroll sideways so the whole lane (header included) is in view, once the layout
        has settled."""
        box = lane.parent
        if isinstance(box, Vertical):
            self.screen.call_after_refresh(self.scroll_to_widget, box, animate=False)

    @staticmethod
    def paint_header(lane: BoardColumn) -> None:
        """The stage's name, probability, count, value and weighted value over its lane."""
        column = lane.column
        kind = " · won" if column.is_won else " · lost" if column.is_lost else ""
        header = Content.assemble(
            (visible(column.name), "bold"),
            (f"  {column.probability}%{kind}", "dim"),
            "\n",
            f"{plural(column.count, 'deal')} · {money(column.total_value)}",
            "\n",
            (f"weighted {money(column.weighted_value)}", "dim"),
        )
        assert lane.parent is not None
        lane.parent.query_one(".lane-header", Static).update(header)
