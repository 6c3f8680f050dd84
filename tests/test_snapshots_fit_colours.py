"""Snapshots in the 16-colour theme (what TERM=linux or TERM=xterm gets), with a selection:
the board, the leads and the dashboard at 80x24 and 120x40. The SVG shows Rich's standard
palette (the index each cell is sent as); tests/test_colours.py measures the contrast."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from dashboard_data import seed_dashboard
from factories import app_context, seed_desk
from sqlalchemy import Engine
from sqlmodel import Session
from test_snapshots_shell import loaded
from textual.pilot import Pilot

from salesengine_tui.app import SalesEngineApp
from salesengine_tui.base.clock import FixedClock
from salesengine_tui.screens.theme import use_sixteen_colours

SIZES = [(80, 24), (120, 40)]


@pytest.fixture
def shell(engine: Engine, clock: FixedClock) -> SalesEngineApp:
    with Session(engine, expire_on_commit=False) as session:
        desk = seed_desk(session)
        seed_dashboard(session, desk)
        session.commit()
    return SalesEngineApp(app_context(engine, clock, desk.manager))


def in_sixteen_colours(*keys: str) -> Callable[[Pilot[None]], object]:
    async def run(pilot: Pilot[None]) -> None:
        use_sixteen_colours(pilot.app)
        await loaded(pilot)
        await pilot.press(*keys)
        await loaded(pilot)
        # The footer greys the keys a screen disables until its data is in: let it catch up
        # with the loaded screen, or the picture depends on which came first.
        pilot.app.screen.refresh_bindings()
        await pilot.pause(0.1)
        await pilot.pause()

    return run


@pytest.mark.parametrize("size", SIZES)
def test_board_16_colours(snap_compare, shell: SalesEngineApp, size: tuple[int, int]) -> None:
    """The second card selected (no next step), a rotting card beside it."""
    assert snap_compare(shell, terminal_size=size, run_before=in_sixteen_colours("j"))


@pytest.mark.parametrize("size", SIZES)
def test_leads_16_colours(snap_compare, shell: SalesEngineApp, size: tuple[int, int]) -> None:
    assert snap_compare(shell, terminal_size=size, run_before=in_sixteen_colours("2", "j"))


@pytest.mark.parametrize("size", SIZES)
def test_dashboard_16_colours(snap_compare, shell: SalesEngineApp, size: tuple[int, int]) -> None:
    """The rotting deals' table focused: its cursor row and the red badges."""
    assert snap_compare(shell, terminal_size=size, run_before=in_sixteen_colours("4", "tab"))
