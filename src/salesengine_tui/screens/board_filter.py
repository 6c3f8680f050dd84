"""What the board shows: the filter (`/`), whose deals (`o`: everyone's, mine, unassigned),
closing this month (`c`), the order (`s`), clearing them (`esc`), and which pipeline (`p`). Each
changes the board's query and loads it again; the columns' totals count what is shown."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import replace

from textual import on
from textual.widgets import Input

from ..deals import board
from ..deals.pipelines import next_pipeline
from ..usecases.context import AppContext
from .board_base import BoardBase
from .commands import PaletteCommand
from .debounce import Debounce


class BoardFilter(BoardBase):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx)
        self._filter_later = Debounce(self, lambda text: self._requery(text=text))

    def _requery(self, **changes: object) -> None:
        if self.view is None:
            return
        self.view = replace(self.view, **changes)  # type: ignore[arg-type]
        self.from_top = self.view  # each lane from its first card
        self.reload()

    def _focus_lane(self) -> None:
        if (lane := self.current_lane) is not None:
            lane.focus()

    def action_filter(self) -> None:
        field = self.query_one("#board-filter", Input)
        field.display = True
        field.focus()

    @on(Input.Changed, "#board-filter")
    def _filter_typed(self, event: Input.Changed) -> None:
        self._filter_later(event.value)

    @on(Input.Submitted, "#board-filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        self._filter_later.flush()
        if not event.value.strip():
            event.input.display = False
        self._focus_lane()

    def action_clear(self) -> None:
        field = self.query_one("#board-filter", Input)
        field.display = False
        if field.value:
            field.value = ""  # Input.Changed re-queries
        if self.view is not None and self.view.filtered:
            self._requery(text="", owner_id=None, unassigned=False, closing_in=None)
        self._focus_lane()

    def action_only_mine(self) -> None:
        """Whose deals, in turn: everyone's, mine, unassigned (reps work unassigned deals too,
        and a rep who wins one is credited with it)."""
        if self.view is None:
            return
        following = board.OWNERS[(board.OWNERS.index(self.view.owners) + 1) % len(board.OWNERS)]
        self._requery(
            owner_id=self.ctx.actor.id if following == "mine" else None,
            unassigned=following == "unassigned",
        )
        self.notify(f"Showing {board.OWNER_LABELS[following]}", timeout=2)

    def action_closing(self) -> None:
        """Only deals expected to close this month (in the business time zone), or all again."""
        if self.view is None:
            return
        month = board.month_start(self.ctx.clock.now().astimezone(self.tz).date())
        self._requery(closing_in=None if self.view.closing_in else month)

    def action_sort(self) -> None:
        if self.view is not None:
            self._requery(sort=board.next_sort(self.view.sort))
            self.notify(f"Sorted by {board.SORT_LABELS[self.view.sort]}", timeout=2)

    def show_pipeline(self, pipeline_id: uuid.UUID) -> None:
        if self.view is not None:
            self.view = replace(self.view, pipeline_id=pipeline_id)
        self._load(self.view, None)

    def action_next_pipeline(self) -> None:
        current = self.view.pipeline_id if self.view else None
        following = next_pipeline(self.pipelines, current)
        if following is not None:
            self.show_pipeline(following.id)

    def palette_commands(self) -> Iterable[PaletteCommand]:
        yield from super().palette_commands()
        yield PaletteCommand(
            "Closing this month", "Only deals expected to close this month (c)", self.action_closing
        )
