"""What every part of the board screen shares: what it shows (the query, the pipelines, the
columns), the lanes and the cursor, and loading them in a worker.

The board screen (`pipeline.PipelineScreen`) is this plus one class per concern: moving cards
(`board_moves`), the filter and the order (`board_filter`), updates from other terminals
(`board_live`).
"""

from __future__ import annotations

import uuid
from dataclasses import replace

from textual import on, work

from ..deals import board
from ..deals.pipelines import PipelineInfo
from ..usecases.context import AppContext
from ..widgets.board_column import BoardColumn
from ..widgets.board_lanes import BoardLanes
from ..widgets.virtual_list import BlockRequest
from .base import SectionScreen
from .messages import BoardLoaded, Focus


class BoardBase(SectionScreen):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self.pipelines: list[PipelineInfo] = []
        self.view: board.BoardQuery | None = None  # what the board shows
        self.columns: list[board.Column] = []
        self.last_move: board.Move | None = None
        self.origin = uuid.uuid4().hex  # this board, so it can ignore its own NOTIFY echoes
        self._bindings_state: tuple[bool, bool, bool] | None = None
        # A query whose first showing starts every lane at its top: a new order or filter
        # makes the old scroll positions meaningless.
        self.from_top: board.BoardQuery | None = None

    # --- where the cursor is -------------------------------------------------------------

    @property
    def board_lanes(self) -> BoardLanes:
        return self.query_one("#board", BoardLanes)

    @property
    def lanes(self) -> list[BoardColumn]:
        return self.board_lanes.lanes

    @property
    def current_lane(self) -> BoardColumn | None:
        return self.board_lanes.current

    @property
    def current_card(self) -> board.Card | None:
        lane = self.current_lane
        return lane.current if lane is not None else None

    @property
    def current_pipeline(self) -> PipelineInfo | None:
        pid = self.view.pipeline_id if self.view else None
        return next((p for p in self.pipelines if p.id == pid), None)

    @property
    def typing_filter(self) -> bool:
        return self.query_one("#board-filter").has_focus

    def go_to(self, lane: BoardColumn) -> None:
        lane.focus()
        self.board_lanes.show(lane)

    # --- loading --------------------------------------------------------------------------

    def reload(self, focus: Focus | None = None) -> None:
        self._load(self.view, focus or self._focus_here())

    def _focus_here(self) -> Focus | None:
        lane = self.current_lane
        if lane is None:
            return None
        return Focus(stage_id=lane.column.id, card=lane.current, index=lane.cursor)

    def _load(self, query: board.BoardQuery | None, focus: Focus | None) -> None:
        """Every load of the board starts here (the live board keeps count: `load_started`)."""
        self.load_started()
        self._read_board(query, focus)

    def load_started(self) -> None:
        """A load of every lane has begun (its read may predate changes heard meanwhile)."""

    @work(thread=True, exclusive=True, exit_on_error=False, group="board-load")
    def _read_board(self, query: board.BoardQuery | None, focus: Focus | None) -> None:
        # Follow the card: it may have moved since, here or elsewhere.
        read = self.desk.deals.load_board(query, follow=focus.card if focus else None)
        if read.query is None:
            self.deliver(BoardLoaded(read.pipelines, None, [], None))
            return
        if focus is not None and read.followed is not None:
            focus = replace(focus, stage_id=read.followed.stage_id, index=read.followed.index)
        self.deliver(BoardLoaded(read.pipelines, read.query, read.columns, focus))

    def _fetch(self, stage_id: uuid.UUID, request: BlockRequest[board.Card]) -> list[board.Card]:
        """Runs in a column's worker thread."""
        query = self.view
        if query is None:
            return []
        return self.desk.deals.page(
            stage_id,
            query,
            after=request.after,
            before=request.before,
            from_end=request.from_end,
            offset=request.offset,
            limit=request.limit,
        )

    def _new_lane(self, column: board.Column) -> BoardColumn:
        return BoardColumn(
            column, fetch=self._fetch, now=self.ctx.clock.now, tz=self.tz, id=f"lane-{column.id}"
        )

    @on(BoardLoaded)
    async def _show(self, message: BoardLoaded) -> None:
        message.stop()
        self.pipelines, self.view = message.pipelines, message.query
        self.sync_bindings()
        first_load = not self.lanes
        self.columns = message.columns
        focus = message.focus
        top = message.query is not None and message.query == self.from_top
        if top:
            self.from_top = None
        lanes = await self.board_lanes.set_columns(message.columns, self._new_lane)
        for lane, column in zip(lanes, message.columns, strict=True):
            cursor = focus.index if focus and focus.stage_id == column.id else None
            lane.reset(column, cursor=0 if top else cursor)
            self.board_lanes.paint_header(lane)
        self._title()
        if first_load:
            # After the first paint: the database layer's long-lived objects exist by now.
            self.call_after_refresh(self.app_freeze)
        target = next((lane for lane in lanes if focus and lane.column.id == focus.stage_id), None)
        if target is None and lanes and not any(lane.has_focus for lane in lanes):
            target = lanes[0]
        if target is not None and not self.typing_filter:
            self.go_to(target)
        self.board_shown()

    def board_shown(self) -> None:
        """After a load is on screen (live updates say so to whoever waits on them)."""

    def app_freeze(self) -> None:
        freeze = getattr(self.app, "freeze_long_lived", None)
        if freeze is not None:
            freeze()

    def _title(self) -> None:
        query, current = self.view, self.current_pipeline
        if query is None or current is None:
            self.set_title_detail("no pipelines yet")
            return
        details = [current.name, f"{self.pipelines.index(current) + 1} of {len(self.pipelines)}"]
        # What narrows the cards before the order: on a narrow terminal the end is cut.
        if query.owners != "everyone":
            details.append(board.OWNER_LABELS[query.owners])
        if query.closing_in is not None:
            details.append(f"closing in {query.closing_in:%B %Y}")
        if query.text.strip():
            details.append(f"filter: {query.text.strip()}")
        details.append(f"sort: {board.SORT_LABELS[query.sort]}")
        self.set_title_detail(*details)

    # --- which keys apply now -------------------------------------------------------------

    def sync_bindings(self) -> None:
        """Refresh the footer only when what `check_action` answers has changed: a refresh
        rebuilds every footer key (~5 ms), too much for each cursor move."""
        state = (
            self.current_card is not None,
            self.last_move is not None,
            len(self.pipelines) > 1,
        )
        if state != self._bindings_state:
            self._bindings_state = state
            self.refresh_bindings()

    @on(BoardColumn.Selected)
    def _selected(self, message: BoardColumn.Selected) -> None:
        message.stop()
        if isinstance(message.list, BoardColumn) and message.list.has_focus:
            self.board_lanes.mark_current(message.list)
        self.sync_bindings()
