"""Snapshots of the board at 80x24 and 120x40 (issue 16): whole lanes only and the lane strip
naming the others, the last lane reached, and a card dragged over another lane (the drop target
outlined, its header and the title line saying where the card would go). Fixed data and clock.

The deal screen a double-click opens is the deal screen's own snapshot."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from factories import Desk, app_context
from sqlalchemy import Engine
from test_snapshots_shell import loaded, then
from textual.pilot import Pilot

from salesengine_tui.app import SalesEngineApp
from salesengine_tui.base.clock import FixedClock
from salesengine_tui.widgets.board_column import BoardColumn

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


@pytest.fixture
def shell(engine: Engine, clock: FixedClock, desk: Desk) -> SalesEngineApp:
    return SalesEngineApp(app_context(engine, clock, desk.manager))


def dragging(source: str, target: str) -> Callable[[Pilot[None]], object]:
    """Press on `source`'s first card and hold it over `target`'s cards (not released)."""

    async def run(pilot: Pilot[None]) -> None:
        await loaded(pilot)
        lanes = {lane.column.name: lane for lane in pilot.app.screen.query(BoardColumn)}
        await pilot.mouse_down(lanes[source], offset=(4, 1))
        await pilot.hover(lanes[target], offset=(6, 3))
        await pilot.pause()

    return run


@pytest.mark.parametrize("size", SIZES)
def test_board_fit(snap_compare, shell: SalesEngineApp, size: tuple[int, int]) -> None:
    assert snap_compare(shell, terminal_size=size, run_before=loaded)


@pytest.mark.parametrize("size", SIZES)
def test_board_fit_last_lane(snap_compare, shell: SalesEngineApp, size: tuple[int, int]) -> None:
    """The focused lane is the last: whole, with the lanes before it named on the strip."""
    assert snap_compare(shell, terminal_size=size, run_before=then(*["l"] * 5))


@pytest.mark.parametrize("size", SIZES)
def test_board_fit_dragging(snap_compare, shell: SalesEngineApp, size: tuple[int, int]) -> None:
    run = dragging("New", "Site Visit Scheduled")
    assert snap_compare(shell, terminal_size=size, run_before=run)
