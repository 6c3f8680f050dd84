"""The board hears other terminals and the jobs runner: a LISTEN on the board channel; a change
to the pipeline shown loads the board again (a burst of changes repaints once), keeping the
cursor on its card.

A change names one card, but nothing here looks that card up: the whole pipeline is read again,
so a card that is new to this board (created in another terminal, or one of the many a single
upsell NOTIFY stands for) simply appears in its lane, and the cursor stays where it was."""

from __future__ import annotations

import threading

from textual import on, work

from ..deals.board_changes import BoardChange
from ..usecases.context import AppContext
from .board_base import BoardBase
from .messages import BoardChanged


class BoardLive(BoardBase):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self._stop_listening = threading.Event()
        # Set once the LISTEN connection is up (tests wait on it instead of sleeping).
        self.listening = threading.Event()
        self._live_reload_pending = False

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

        self.desk.deals.listen(heard, self._stop_listening, on_connected=self.listening.set)

    @on(BoardChanged)
    def _changed_elsewhere(self, message: BoardChanged) -> None:
        message.stop()
        # Before the first load has shown a pipeline (None), its read may predate the change:
        # load again rather than miss it.
        if self.view is not None and message.change.pipeline_id != self.view.pipeline_id:
            return
        if not self._live_reload_pending:  # a burst of moves repaints once
            self._live_reload_pending = True
            self.set_timer(0.05, self._live_reload)

    def _live_reload(self) -> None:
        self._live_reload_pending = False
        self.reload()
