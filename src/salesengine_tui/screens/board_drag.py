"""The board's mouse, on the screen's side: a click selects a card, a double-click opens the
deal (as `d`), and a card dragged to another lane moves there exactly as `shift+→` moves it
(`BoardMoves.move_card`: the same lock, what the stage sets off, the Lost reason, the value for
a Won at $0, and `u` to undo). While a card is dragged, the title line says where it would go;
`esc` or a release outside another lane leaves everything as it was.

Where the pointer is, and the drag itself, are the lanes' (`widgets.board_pointer`)."""

from __future__ import annotations

from textual import on

from ..widgets.board_lanes import BoardLanes
from .board_edits import BoardEdits
from .board_filter import BoardFilter
from .board_moves import BoardMoves

NOT_MOVED = "Not moved; nothing changed"


class BoardDrag(BoardMoves, BoardEdits, BoardFilter):
    drag_hint: tuple[str, ...] = ()  # the title line while a card is dragged

    def _title(self) -> None:
        # A load during a drag (another terminal's move) keeps the drag's title line.
        if self.drag_hint:
            self.set_title_detail(*self.drag_hint)
        else:
            super()._title()

    def _drag_done(self) -> None:
        self.drag_hint = ()
        self._title()

    @on(BoardLanes.CardClicked)
    def _card_clicked(self, message: BoardLanes.CardClicked) -> None:
        message.stop()
        lane = message.lane
        self.go_to(lane)
        lane.move_to(message.index)
        if message.chain >= 2:
            self.action_open_card()

    @on(BoardLanes.DragOver)
    def _drag_over(self, message: BoardLanes.DragOver) -> None:
        message.stop()
        card, target = message.card, message.target
        # Most telling first: a narrow terminal cuts the end of the line.
        where = f"drop: move to {target.name}" if target else "drop on another lane to move"
        self.drag_hint = (where, "esc cancels", f"#{card.number} {card.customer_name}")
        self._title()

    @on(BoardLanes.Dropped)
    def _dropped(self, message: BoardLanes.Dropped) -> None:
        message.stop()
        self._drag_done()
        # The stage as the board knows it now (figures may have changed during the drag).
        target = message.target
        column = next((c for c in self.columns if target and c.id == target.id), None)
        if column is None:
            self.notify(f"{NOT_MOVED}: dropped outside another lane", timeout=3)
            return
        self.move_card(message.card, column)

    def action_clear(self) -> None:
        if self.board_lanes.cancel_drag():  # esc ends a drag first
            self._drag_done()
            self.notify(f"{NOT_MOVED}: drag cancelled", timeout=3)
            return
        super().action_clear()
