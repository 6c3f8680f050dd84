"""An open board patches what another terminal changed instead of loading every lane again:
the card in its new lane, the lane headers' figures from the NOTIFY, one small read for it.

"Another terminal" is a second desk on its own engine (its statements are not the open app's)
acting through the use cases; the open app is the real app under Pilot, on real PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from decimal import Decimal

import sqlalchemy as sa
from factories import FIXED_NOW, Desk
from pilot_helpers import wait_listening, wait_until
from sqlalchemy import Engine
from sqlmodel import Session
from test_board_app import SIZE, lane, make_app
from textual.pilot import Pilot

from salesengine_tui.app import SalesEngineApp
from salesengine_tui.base.clock import FixedClock
from salesengine_tui.db.models import CustomerStatus
from salesengine_tui.deals import board
from salesengine_tui.deals.board_card import comes_before, with_card, without
from salesengine_tui.screens.messages import BoardPatched
from salesengine_tui.usecases.deals import NewDeal
from salesengine_tui.usecases.desk import Desk as UseCaseDesk
from salesengine_tui.widgets.board_column import BoardColumn
from salesengine_tui.widgets.board_lanes import LaneHeader

# --- helpers -------------------------------------------------------------------------------


def column_of(app: SalesEngineApp, name: str) -> BoardColumn:
    return next(c for c in app.screen.query(BoardColumn) if c.column.name == name)


def names_in(app: SalesEngineApp, name: str) -> list[str]:
    """The customers of the cards a lane has loaded, in order."""
    column = column_of(app, name)
    return [column.loaded[i].customer_name for i in sorted(column.loaded)]


def header(app: SalesEngineApp, name: str) -> str:
    box = column_of(app, name).parent
    assert box is not None
    return str(box.query_one(LaneHeader).render())


def truth(engine: Engine, query: board.BoardQuery) -> dict[str, tuple[int, Decimal]]:
    """Each stage's count and sum as a full load reads them."""
    with Session(engine) as s:
        return {c.name: (c.count, c.total_value) for c in board.columns(s, query)}


def shown(app: SalesEngineApp) -> dict[str, tuple[int, Decimal]]:
    return {
        lane.column.name: (lane.column.count, lane.column.total_value) for lane in app.screen.lanes
    }


class Statements:
    """SQL statements an engine runs while counting."""

    def __init__(self, engine: Engine) -> None:
        self.engine, self.seen, self.counting = engine, list[str](), False

    def _hear(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if self.counting:
            self.seen.append(statement)

    @contextmanager
    def listening(self) -> Iterator[Statements]:
        sa.event.listen(self.engine, "before_cursor_execute", self._hear)
        try:
            yield self
        finally:
            sa.event.remove(self.engine, "before_cursor_execute", self._hear)


async def open_board(pilot, app: SalesEngineApp) -> None:
    await wait_until(
        pilot,
        lambda: isinstance(app.screen.focused, BoardColumn) and lane(app).current is not None,
    )
    await wait_listening(pilot, app.screen.listening, "board's")


def patched_hook(patched: list[BoardPatched], statements: Statements | None = None):
    """A message hook: every BoardPatched, and the statement count when the first arrives."""

    def hook(message: object) -> None:
        # The hook sees a message at each node it reaches (the screen, then the app): once.
        if isinstance(message, BoardPatched) and all(message is not p for p in patched):
            patched.append(message)
            if statements is not None and statements.counting:
                statements.counting = False

    return hook


@asynccontextmanager
async def live_board(
    engine: Engine, clock: FixedClock, desk: Desk, statements: Statements | None = None
) -> AsyncIterator[tuple[Pilot[None], SalesEngineApp, list[BoardPatched]]]:
    """The app on the board, live, listening; every BoardPatched it posts collected."""
    patched: list[BoardPatched] = []
    app = make_app(engine, clock, desk, live_updates=True)
    async with app.run_test(size=SIZE, message_hook=patched_hook(patched, statements)) as pilot:
        await open_board(pilot, app)
        yield pilot, app, patched


async def card_named(app: SalesEngineApp, engine: Engine, name: str) -> board.Card:
    with Session(engine) as s:
        for stage in app.screen.columns:
            for card in board.page(s, stage.id, app.screen.view):
                if card.customer_name == name:
                    return card
    raise AssertionError(name)


# --- a move -----------------------------------------------------------------------------------


async def test_a_move_elsewhere_is_patched_in_with_one_small_read(
    engine: Engine, clock: FixedClock, desk: Desk, elsewhere: UseCaseDesk
) -> None:
    statements = Statements(engine)
    with statements.listening():
        async with live_board(engine, clock, desk, statements) as (pilot, app, patched):
            await pilot.press("j")  # on Hank, the second card of New (Peggy is older)
            hank = lane(app).current
            assert hank.customer_name == "Hank Hill" and names_in(app, "New") == [
                "Peggy Hill",
                "Hank Hill",
            ]
            peggy = await card_named(app, engine, "Peggy Hill")
            proposal = column_of(app, "Proposal Sent").column.id

            statements.counting = True  # from just before the NOTIFY is sent...
            await asyncio.to_thread(elsewhere.deals.move, peggy, proposal, origin="elsewhere")
            await wait_until(pilot, lambda: bool(patched), seconds=5, what="BoardPatched")
            # ...until the board says it shows the change: one read of the one card
            assert len(statements.seen) <= 2, statements.seen
            assert all("GROUP BY" not in s for s in statements.seen)  # no lane totals again

            assert patched[0].change.estimate_id == peggy.id
            assert names_in(app, "New") == ["Hank Hill"]
            assert names_in(app, "Proposal Sent") == ["Bill Dauterive", "Peggy Hill"]
            assert shown(app) == truth(engine, app.screen.view)
            assert "1 deal · $8,400" in header(app, "New")
            assert "2 deals · $27,500" in header(app, "Proposal Sent")
            # the cursor stayed on Hank, who moved up one
            assert lane(app).column.name == "New" and lane(app).current.id == hank.id
            assert lane(app).cursor == 0
            # the moved card's days in stage start again: it entered just now
            moved = column_of(app, "Proposal Sent").loaded[1]
            assert moved.stage_entered_at == clock.now() and moved.version == peggy.version + 1


async def test_the_cursor_follows_its_card_moved_elsewhere(
    engine: Engine, clock: FixedClock, desk: Desk, elsewhere: UseCaseDesk
) -> None:
    async with live_board(engine, clock, desk) as (pilot, app, patched):
        peggy = lane(app).current
        assert peggy.customer_name == "Peggy Hill"
        negotiation = column_of(app, "Negotiation").column.id
        await asyncio.to_thread(elsewhere.deals.move, peggy, negotiation, origin="elsewhere")
        await wait_until(pilot, lambda: bool(patched), seconds=5, what="BoardPatched")
        await pilot.pause()
        # as a load does: the cursor goes with its card
        assert lane(app).column.name == "Negotiation" and lane(app).current.id == peggy.id
        assert shown(app) == truth(engine, app.screen.view)


# --- a new deal, an edit ----------------------------------------------------------------------


async def test_a_new_deal_and_an_edit_elsewhere_are_patched_in(
    engine: Engine, clock: FixedClock, desk: Desk, elsewhere: UseCaseDesk
) -> None:
    async with live_board(engine, clock, desk) as (pilot, app, patched):
        view = app.screen.view
        deal = NewDeal(view.pipeline_id, None, "Heat pump", Decimal(4200), None, None)
        dale = desk.customers["Dale Gribble"].id
        opened = await asyncio.to_thread(
            elsewhere.deals.create, deal, customer_id=dale, origin="elsewhere"
        )
        await wait_until(pilot, lambda: len(patched) == 1, seconds=5, what="the new deal")
        assert names_in(app, "New") == ["Peggy Hill", "Hank Hill", "Dale Gribble"]
        assert "3 deals · $24,600" in header(app, "New")
        assert shown(app) == truth(engine, view)

        # another value and owner for it, elsewhere: the card and the totals follow
        await asyncio.to_thread(
            elsewhere.deals.edit,
            opened.estimate_id,
            expected_version=opened.card.version,
            amount=Decimal(5000),
            owner_id=desk.rep.id,
            origin="elsewhere",
        )
        await wait_until(pilot, lambda: len(patched) == 2, seconds=5, what="the edit")
        card = column_of(app, "New").loaded[2]
        assert (card.amount, card.owner_id) == (Decimal(5000), desk.rep.id)
        assert "3 deals · $25,400" in header(app, "New")
        assert shown(app) == truth(engine, view)


# --- filters and stages -------------------------------------------------------------------------


async def test_a_card_leaving_the_filter_goes_and_a_new_stage_loads_the_board(
    engine: Engine, clock: FixedClock, desk: Desk, elsewhere: UseCaseDesk
) -> None:
    async with live_board(engine, clock, desk) as (pilot, app, patched):
        app.screen.action_only_mine()  # Dana's deals: all of them, so far
        await wait_until(pilot, lambda: app.screen.view.owners == "mine")
        await wait_until(pilot, lambda: names_in(app, "New") == ["Peggy Hill", "Hank Hill"])
        view = app.screen.view
        hank = await card_named(app, engine, "Hank Hill")
        await asyncio.to_thread(
            elsewhere.deals.edit,
            hank.id,
            expected_version=hank.version,
            owner_id=desk.rep.id,  # now Sam's: not "mine" any more
            origin="elsewhere",
        )
        await wait_until(pilot, lambda: len(patched) == 1, seconds=5, what="the owner change")
        assert names_in(app, "New") == ["Peggy Hill"]
        assert "1 deal · $12,000" in header(app, "New")
        assert shown(app) == truth(engine, view)

        # a stage added in pipeline settings: the lanes themselves change, so a load
        await asyncio.to_thread(elsewhere.pipelines.add_stage, view.pipeline_id, "Follow Up")
        await wait_until(pilot, lambda: len(patched) == 2, seconds=5, what="the new stage")
        assert patched[1].change.kind == "stages"
        assert "Follow Up" in [lane.column.name for lane in app.screen.lanes]
        assert shown(app) == truth(engine, view)


# --- the payload and the placing, without the app ----------------------------------------------


def test_payloads_from_other_versions_load_the_board() -> None:
    pipeline, card = uuid.uuid4(), uuid.uuid4()
    old = f'{{"pipeline_id": "{pipeline}", "estimate_id": "{card}", "by": null}}'
    assert board.BoardChange.from_json(old) == board.BoardChange(pipeline, card, None)
    assert board.BoardChange.from_json(old).kind == "reload"
    newer = old[:-1] + ', "kind": "cards-v9"}'
    assert board.BoardChange.from_json(newer).kind == "reload"
    half = old[:-1] + ', "kind": "card", "version": "x"}'
    assert board.BoardChange.from_json(half).kind == "reload"
    assert not board.BoardChange.from_json(half).patchable
    assert board.BoardChange.from_json("[1]") is None


def _card(n: int, amount: int) -> board.Card:
    """A card with what ordering by value reads (its amount and id)."""
    return board.Card(
        id=uuid.UUID(int=n),
        version=1,
        number=n,
        stage_id=uuid.UUID(int=0),
        stage_entered_at=FIXED_NOW,
        title="",
        amount=Decimal(amount),
        customer_id=uuid.UUID(int=0),
        customer_name="",
        customer_status=CustomerStatus.lead,
        owner_id=None,
        owner_name=None,
        owner_initials=None,
        last_interaction_at=None,
        lost_reason=None,
        amount_estimated=False,
        expected_close_on=None,
        next_task=None,
        next_task_due=None,
    )


def amounts(items: dict[int, board.Card]) -> dict[int, int]:
    return {i: int(c.amount) for i, c in sorted(items.items())}


def test_placing_a_card_among_the_loaded_ones_by_value() -> None:
    cards = {i: _card(i + 1, amount) for i, amount in enumerate([900, 700, 500])}
    new = _card(9, 800)
    items, index = with_card(cards, 3, new, (new.amount, new.id), "value")
    assert index == 1 and amounts(items) == {0: 900, 1: 800, 2: 700, 3: 500}
    # past the loaded ones, in a lane of more: not placed, nothing loaded moves
    small = _card(8, 100)
    items, index = with_card(cards, 50, small, (small.amount, small.id), "value")
    assert index is None and items == cards
    # between two loaded runs (0-1, then 5): not placed, the later run moves down
    runs = {0: cards[0], 1: cards[1], 5: cards[2]}
    mid = _card(7, 600)
    items, index = with_card(runs, 9, mid, (mid.amount, mid.id), "value")
    assert index is None and amounts(items) == {0: 900, 1: 700, 6: 500}
    # leaving: found by id, or placed by its old key when not loaded
    assert amounts(without(cards, cards[1].id, None, "value")) == {0: 900, 1: 500}
    gone = without(runs, mid.id, (mid.amount, mid.id), "value")
    assert gone is not None and amounts(gone) == {0: 900, 1: 700, 4: 500}
    assert without(runs, mid.id, None, "value") is None  # not loaded, no key: load again
    assert comes_before((Decimal(1), mid.id), (Decimal(2), mid.id), "days")
