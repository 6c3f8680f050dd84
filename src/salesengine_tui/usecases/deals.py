"""Deals on the board: read the lanes and cards, move, reassign, undo, detail."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from ..customers.leads import Person, assignable_users
from ..deals import board
from ..deals.pipelines import PipelineInfo, list_pipelines
from .base import UseCases


@dataclass(frozen=True)
class CardPlace:
    """Where a card sits now: its stage, and its index in that column."""

    stage_id: uuid.UUID
    index: int


@dataclass(frozen=True)
class BoardRead:
    """One load of the board."""

    pipelines: list[PipelineInfo]
    query: board.BoardQuery | None  # None: there are no pipelines
    columns: list[board.Column]
    followed: CardPlace | None = None  # the followed card, where the query still shows it


class Deals(UseCases):
    # --- reads ------------------------------------------------------------------------------

    def load_board(
        self, query: board.BoardQuery | None, *, follow: board.Card | None = None
    ) -> BoardRead:
        """The pipelines and the columns of `query` (the first pipeline when `query` is None
        or its pipeline is gone), and where `follow` sits now: it may have moved since."""
        with self.read() as session:
            pipelines = list_pipelines(session)
            if query is None or query.pipeline_id not in {p.id for p in pipelines}:
                if not pipelines:
                    return BoardRead(pipelines, None, [])
                query = board.BoardQuery(pipeline_id=pipelines[0].id)
            columns = board.columns(session, query)
            followed = None
            if follow is not None:
                index = board.position(session, follow, query)
                if index is not None:
                    followed = CardPlace(board.get_card(session, follow.id).stage_id, index)
        return BoardRead(pipelines, query, columns, followed)

    def page(
        self,
        stage_id: uuid.UUID,
        query: board.BoardQuery,
        *,
        after: board.Card | None = None,
        before: board.Card | None = None,
        offset: int = 0,
        from_end: bool = False,
        limit: int = board.PAGE_SIZE,
    ) -> list[board.Card]:
        """A block of one column's cards (see `board.page`)."""
        with self.read() as session:
            return board.page(
                session,
                stage_id,
                query,
                after=after,
                before=before,
                offset=offset,
                from_end=from_end,
                limit=limit,
            )

    def position(self, card: board.Card, query: board.BoardQuery) -> int | None:
        with self.read() as session:
            return board.position(session, card, query)

    def detail(self, estimate_id: uuid.UUID) -> board.CardDetail:
        with self.read() as session:
            return board.detail(session, estimate_id)

    def assignable_owners(self) -> list[Person]:
        """Who a deal can be given to: active reps and managers, by name."""
        with self.read() as session:
            return assignable_users(session)

    def listen(
        self,
        changed: Callable[[board.BoardChange], None],
        stop: threading.Event,
        *,
        on_connected: Callable[[], None] | None = None,
    ) -> None:
        """Call `changed` for every change another board (or pipeline settings) makes, until
        `stop` is set (blocks: run it in a worker thread). Payloads not understood are dropped."""

        def heard(payload: str) -> None:
            change = board.BoardChange.from_json(payload)
            if change is not None:
                changed(change)

        self.listen_on(board.BOARD_CHANNEL, heard, stop, on_connected=on_connected)

    # --- writes -----------------------------------------------------------------------------
    # `origin` names the board that acts, so it can skip the echo of its own NOTIFY.

    def move(
        self,
        card: board.Card,
        stage_id: uuid.UUID,
        *,
        lost_reason: str | None = None,
        origin: str = "",
    ) -> board.Move:
        """Move `card` (as the board saw it) to a stage; MoveConflict if it changed since."""
        with self.write() as session:
            return board.move(
                session,
                self.actor,
                card.id,
                expected_version=card.version,
                to_stage_id=stage_id,
                now=self.now(),
                lost_reason=lost_reason,
                origin=origin,
            )

    def undo(self, last: board.Move, *, origin: str = "") -> board.Move:
        with self.write() as session:
            return board.undo(session, self.actor, last, now=self.now(), origin=origin)

    def reassign(self, card: board.Card, owner_id: uuid.UUID | None, *, origin: str = "") -> str:
        """Give the deal to `owner_id` (None: nobody); returns the new owner's name."""
        with self.write() as session:
            return board.reassign(
                session,
                self.actor,
                card.id,
                owner_id,
                expected_version=card.version,
                now=self.now(),
                origin=origin,
            )
