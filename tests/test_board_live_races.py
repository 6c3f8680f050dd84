"""Patches are increments, so each change must be shown exactly once, after the read it
follows: a change heard while a load runs, changes made while the listener was down, and a
long lane a card leaves (which must not be read again by every open board)."""

from __future__ import annotations

import asyncio
import threading
import uuid
from decimal import Decimal

import sqlalchemy as sa
from factories import FIXED_NOW, Desk, add_estimate, stages_of
from pilot_helpers import wait_until
from sqlalchemy import Engine
from sqlmodel import Session
from test_board_app import lane
from test_board_live_patch import (
    Statements,
    card_named,
    column_of,
    live_board,
    names_in,
    shown,
    truth,
)

from salesengine_tui.base.clock import FixedClock
from salesengine_tui.db import live
from salesengine_tui.deals import board
from salesengine_tui.deals.cards import Column, with_card_moved
from salesengine_tui.usecases.desk import Desk as UseCaseDesk


async def test_a_change_heard_while_a_load_runs_is_shown_by_one_more_load(
    engine: Engine, clock: FixedClock, desk: Desk, elsewhere: UseCaseDesk
) -> None:
    async with live_board(engine, clock, desk) as (pilot, app, patched):
        screen = app.screen
        real_load = screen.desk.deals.load_board
        read, release = threading.Event(), threading.Event()

        def slow_load(*args: object, **kwargs: object) -> board.BoardRead:
            result = real_load(*args, **kwargs)  # read now (before the move)...
            read.set()
            release.wait(10)  # ...shown only after it
            return result

        screen.desk.deals.load_board = slow_load  # type: ignore[method-assign]
        try:
            screen.reload()
            await asyncio.to_thread(read.wait, 10)
            peggy = await card_named(app, engine, "Peggy Hill")
            proposal = column_of(app, "Proposal Sent").column.id
            await asyncio.to_thread(elsewhere.deals.move, peggy, proposal, origin="elsewhere")
            # heard while the load is under way: no patch of its own
            await wait_until(pilot, lambda: screen._again, seconds=5, what="heard meanwhile")
        finally:
            screen.desk.deals.load_board = real_load  # type: ignore[method-assign]
            release.set()
        await wait_until(pilot, lambda: bool(patched), seconds=10, what="BoardPatched")
        await pilot.pause()
        assert "Peggy Hill" in names_in(app, "Proposal Sent")
        assert "Peggy Hill" not in names_in(app, "New")
        assert shown(app) == truth(engine, screen.view)


async def test_changes_made_while_the_listener_was_down_are_caught_up(
    engine: Engine, clock: FixedClock, desk: Desk, elsewhere: UseCaseDesk
) -> None:
    async with live_board(engine, clock, desk) as (pilot, app, _patched):
        screen = app.screen
        screen.listening.clear()

        def listeners() -> int:
            with engine.connect() as conn:
                return conn.execute(
                    sa.text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                        "current_database() AND application_name = :n"
                    ),
                    {"n": live.APPLICATION_NAME},
                ).scalar_one()

        with engine.begin() as conn:  # the server drops the app's listener
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
                    "current_database() AND application_name = :n"
                ),
                {"n": live.APPLICATION_NAME},
            )
        await wait_until(pilot, lambda: listeners() == 0, seconds=5, what="listener gone")
        # a move nobody hears: the NOTIFY goes out while the app listens to nothing
        peggy = await card_named(app, engine, "Peggy Hill")
        proposal = column_of(app, "Proposal Sent").column.id
        await asyncio.to_thread(elsewhere.deals.move, peggy, proposal, origin="elsewhere")
        # back (after the hub's retry) and caught up by a load before it says it listens
        await wait_until(pilot, screen.listening.is_set, seconds=15, what="listening again")
        await wait_until(
            pilot, lambda: "Peggy Hill" in names_in(app, "Proposal Sent"), what="caught up"
        )
        assert shown(app) == truth(engine, screen.view)


async def test_a_card_leaving_a_long_lane_is_one_read_not_a_page(
    engine: Engine, clock: FixedClock, desk: Desk, elsewhere: UseCaseDesk
) -> None:
    with Session(engine) as s:  # New gets 250 more cards: three blocks of 100
        new = stages_of(s, "Residential Replacements")["New"]
        dale = s.get(type(desk.customers["Dale Gribble"]), desk.customers["Dale Gribble"].id)
        for k in range(250):
            add_estimate(s, dale, new, 1000 + k, title=f"Filter {k}", entered_at=FIXED_NOW)
        s.commit()
    statements = Statements(engine)
    with statements.listening():
        async with live_board(engine, clock, desk, statements) as (pilot, app, patched):
            first = lane(app)
            assert first.column.name == "New" and first.count == 252
            await wait_until(pilot, lambda: 99 in first.loaded, what="New's first block")
            leaving = first.loaded[5]
            proposal = column_of(app, "Proposal Sent").column.id
            statements.counting = True
            await asyncio.to_thread(elsewhere.deals.move, leaving, proposal, origin="elsewhere")
            await wait_until(pilot, lambda: bool(patched), seconds=5, what="BoardPatched")
            await pilot.pause(0.3)  # a lane's page read would start by now...
            await wait_until(  # ...and end (the listener is a worker that never does)
                pilot,
                lambda: (
                    not any(
                        w.group.startswith("blocks-") and not w.is_finished for w in app.workers
                    )
                ),
                what="no page read running",
            )
            statements.counting = False
            assert len(statements.seen) <= 2, statements.seen  # the card, not New's page
            assert first.count == 251 and leaving.id not in {c.id for c in first.loaded.values()}
            assert shown(app) == truth(engine, app.screen.view)


def test_lane_figures_round_as_postgresql_does() -> None:
    column = Column(
        id=uuid.uuid4(),
        name="Proposal Sent",
        position=2,
        probability=25,
        is_won=False,
        is_lost=False,
        rotting_days=None,
        follow_up_after_days=None,
        count=0,
        total_value=Decimal("0"),
        weighted_value=Decimal("0"),
    )
    # 1,234.50 at 25% is 308.625: PostgreSQL's round() gives 308.63 (half away from zero)
    moved = with_card_moved(column, count=1, amount=Decimal("1234.50"))
    assert moved.weighted_value == Decimal("308.63")
