"""The board hears other terminals and the jobs runner: a LISTEN on the board channel, and what
it hears patched into what the board shows.

A change to one card ("card") costs one small read: that card by primary key (`board_card`),
taken out of the lane it left and put in at its place in the lane it entered when that place
is among the cards the lane has loaded (else only the lane's figures change); the lane headers'
counts and sums come from the payload. A change the board cannot place safely (the pipeline's
stages, many cards at once, a card changed again since, an order by name), and anything not
understood, loads the board again as before. A burst of changes is handled once (one repaint),
the cursor stays on its card (following it to another lane, as a load does), and each change
shown is announced with `BoardPatched` (the load benchmark and the tests wait on it).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from textual import on, work
from textual.message import Message

from ..deals import board
from ..deals.board_card import CardPatch, card_key, key_before, with_card, without
from ..deals.board_changes import BoardChange
from ..usecases.context import AppContext
from ..widgets.board_column import BoardColumn
from .board_base import BoardBase
from .messages import BoardChanged, BoardPatched

COALESCE_SECONDS = 0.05  # changes heard within this are shown together


@dataclass
class CardsRead(Message):
    """The cards a burst of changes named, read for the board showing `query` after its
    `loads`-th load (a load since makes them moot: it may already show them)."""

    query: board.BoardQuery
    patches: list[CardPatch]
    loads: int


class ListenerReady(Message):
    """The board's LISTEN is in place (again, after a reconnect)."""


Plan = dict[BoardColumn, tuple[board.Column, dict[int, board.Card]]]


class BoardLive(BoardBase):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self._stop_listening = threading.Event()
        # Set once the LISTEN connection is up (tests wait on it instead of sleeping).
        self.listening = threading.Event()
        self._heard: list[BoardChange] = []  # waiting for the burst to end
        self._live_pending = False
        self._shown_by_load: list[BoardChange] = []  # announced once the next load is shown
        # Patches are increments: a change must be applied exactly once, after the read it
        # follows. Loads are counted; a change heard while one runs loads once more after it
        # (its read may predate the change), and a patch read before a load is dropped for a
        # load. Changes made while not listening (before the LISTEN, a reconnect) are caught
        # up with a load.
        self._loads = 0
        self._loading = False
        self._again = False
        self._catching_up = False

    def on_mount(self) -> None:
        # Only the listener: the section's own on_mount (SectionScreen) loads the board.
        if self.ctx.settings.live_updates:
            self._listen()

    def on_unmount(self) -> None:
        self._stop_listening.set()

    @work(thread=True, exit_on_error=False, group="board-live")
    def _listen(self) -> None:
        def heard(change: BoardChange) -> None:
            if change.origin != self.origin:
                self.post_message(BoardChanged(change))

        self.desk.deals.listen(
            heard, self._stop_listening, on_connected=lambda: self.post_message(ListenerReady())
        )

    @on(ListenerReady)
    def _listener_ready(self, message: ListenerReady) -> None:
        message.stop()
        if self._loads == 0:  # nothing read yet: the first load comes after the LISTEN
            self.listening.set()
            return
        self._catching_up = True  # `listening` is set once the catch-up load is shown
        self.reload()

    def load_started(self) -> None:
        self._loads += 1
        self._loading = True

    @on(BoardChanged)
    def _changed_elsewhere(self, message: BoardChanged) -> None:
        message.stop()
        # Before the first load has shown a pipeline (None), its read may predate the change:
        # load again rather than miss it.
        if self.view is not None and message.change.pipeline_id != self.view.pipeline_id:
            return
        self._heard.append(message.change)
        if not self._live_pending:  # a burst of changes is shown once
            self._live_pending = True
            self.set_timer(COALESCE_SECONDS, self._live_update)

    def _live_update(self) -> None:
        self._live_pending = False
        changes, self._heard = self._heard, []
        if self._loading:  # the load under way may have read before these: load once more
            self._shown_by_load.extend(changes)
            self._again = True
            return
        query = self.view
        ids = [change.estimate_id for change in changes]
        if (
            query is None
            or query.sort == "name"  # the database's collation places it: see `board_card`
            or len(set(ids)) != len(ids)  # one card changed twice: its reads would race
            or not all(self._placeable(change) for change in changes)
        ):
            self._load_for(changes)
            return
        self._read_cards(query, changes, self._loads)

    def _placeable(self, change: BoardChange) -> bool:
        stages = {lane.column.id for lane in self.lanes}
        return (
            change.patchable
            and change.to_stage_id in stages
            and (change.from_stage_id is None or change.from_stage_id in stages)
        )

    def _load_for(self, changes: list[BoardChange]) -> None:
        self._shown_by_load.extend(changes)
        self.reload()

    def board_shown(self) -> None:
        self._loading = False
        if self._again:
            self._again = False
            self.reload()  # what was heard meanwhile is announced after this one
            return
        shown, self._shown_by_load = self._shown_by_load, []
        self._announce(shown)
        if self._catching_up:
            self._catching_up = False
            self.listening.set()

    def _announce(self, changes: list[BoardChange]) -> None:
        """Once painted: `BoardPatched` for each change now on screen (it bubbles to the app)."""
        if changes:
            self.call_after_refresh(lambda: [self.post_message(BoardPatched(c)) for c in changes])

    @work(thread=True, exit_on_error=False, group="board-live-cards")
    def _read_cards(self, query: board.BoardQuery, changes: list[BoardChange], loads: int) -> None:
        self.deliver(CardsRead(query, self.desk.deals.changed_cards(changes, query), loads))

    @on(CardsRead)
    def _cards_read(self, message: CardsRead) -> None:
        message.stop()
        changes = [patch.change for patch in message.patches]
        # Each patch is placed or the board loads again (a load overwrites what was patched).
        if (
            message.query != self.view
            or message.loads != self._loads
            or self._loading
            or not all(self._patch(p) for p in message.patches)
        ):
            self._load_for(changes)
            return
        self.columns = [lane.column for lane in self.lanes]
        self.sync_bindings()
        self._announce(changes)

    # --- one card ------------------------------------------------------------------------

    def _patch(self, patch: CardPatch) -> bool:
        """Show `patch` in the lanes; False (nothing changed) when it cannot be placed."""
        card, query = patch.card, self.view
        if card is None or query is None or not patch.current or patch.shown_before is None:
            return False
        plan = self._plan(patch, card, query.sort)
        if plan is None:
            return False
        here = self.current_lane
        follow = here is not None and here.current is not None and here.current.id == card.id
        target = next((lane for lane in plan if lane.column.id == card.stage_id), None)
        index = None
        if target is not None and patch.shown_after:
            index = next((i for i, c in plan[target][1].items() if c.id == card.id), None)
            if index is None and follow:
                return False  # the cursor follows its card: to a place not loaded, load
        for lane, (column, items) in plan.items():
            cursor = index if follow and lane is target and index is not None else None
            lane.patch(column, items, cursor=self._cursor_after(lane, items, cursor))
            self.board_lanes.paint_header(lane)
        if follow and target is not None and index is not None and not self.typing_filter:
            self.go_to(target)  # as a load does: the cursor stays on its card, wherever it went
        return True

    def _plan(self, patch: CardPatch, card: board.Card, sort: board.Sort) -> Plan | None:
        """Each lane the change touches: its figures and loaded cards after it."""
        change, plan = patch.change, Plan()
        for lane in self.lanes:
            left = patch.shown_before and lane.column.id == change.from_stage_id
            if left:
                assert change.amount_before is not None  # `patchable`
                items = without(lane.loaded, card.id, key_before(change, sort), sort)
                if items is None:
                    return None
                plan[lane] = (
                    board.with_card_moved(lane.column, count=-1, amount=change.amount_before),
                    items,
                )
            elif any(c.id == card.id for c in lane.loaded.values()):
                # Read by a block fetched since the change: out, so it is not shown twice.
                plan[lane] = (lane.column, without(lane.loaded, card.id, None, sort) or {})
        if patch.shown_after:
            target = next((lane for lane in self.lanes if lane.column.id == card.stage_id), None)
            key = card_key(card, sort)
            if target is None or key is None or change.amount is None:
                return None
            column, items = plan.get(target, (target.column, dict(target.loaded)))
            items, _ = with_card(items, column.count, card, key, sort)
            plan[target] = (board.with_card_moved(column, count=1, amount=change.amount), items)
        return plan

    @staticmethod
    def _cursor_after(lane: BoardColumn, items: dict[int, board.Card], index: int | None) -> int:
        """Where `lane`'s cursor goes: `index` if given, else on the card it was on, else at
        the same place (the next card moved up into it)."""
        if index is not None:
            return index
        current = lane.current
        if current is not None:
            found = next((i for i, c in items.items() if c.id == current.id), None)
            if found is not None:
                return found
        return lane.cursor
