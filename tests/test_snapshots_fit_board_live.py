"""Snapshots of a board patched by a move made in another terminal (live updates on): Peggy in
Proposal Sent with the days in stage started again, the headers' figures from the NOTIFY, the
cursor still on Hank in New. Update on purpose, then look at the SVGs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from factories import Desk
from pilot_helpers import wait_until
from sqlalchemy import Engine
from test_board_app import make_app
from test_board_live_patch import card_named, column_of, names_in, open_board
from textual.pilot import Pilot

from salesengine_tui.base.clock import FixedClock
from salesengine_tui.usecases.desk import Desk as UseCaseDesk


def moved_elsewhere(other: UseCaseDesk) -> Callable[[Pilot[None]], object]:
    async def run(pilot: Pilot[None]) -> None:
        app = pilot.app
        await open_board(pilot, app)
        await pilot.press("j")  # on Hank
        peggy = await card_named(app, app.ctx.engine, "Peggy Hill")
        proposal = column_of(app, "Proposal Sent").column.id
        await asyncio.to_thread(other.deals.move, peggy, proposal, origin="elsewhere")
        await wait_until(
            pilot, lambda: names_in(app, "Proposal Sent") == ["Bill Dauterive", "Peggy Hill"]
        )
        await pilot.pause()

    return run


def test_board_patched_live_120x40(
    snap_compare, engine: Engine, clock: FixedClock, desk: Desk, elsewhere: UseCaseDesk
) -> None:
    app = make_app(engine, clock, desk, live_updates=True)
    assert snap_compare(app, terminal_size=(120, 40), run_before=moved_elsewhere(elsewhere))


def test_board_patched_live_80x24(
    snap_compare, engine: Engine, clock: FixedClock, desk: Desk, elsewhere: UseCaseDesk
) -> None:
    app = make_app(engine, clock, desk, live_updates=True)
    assert snap_compare(app, terminal_size=(80, 24), run_before=moved_elsewhere(elsewhere))
