"""Snapshots of the shell with fixed data and a fixed clock. Update on purpose
(`pytest --snapshot-update`), then look at the SVGs in tests/__snapshots__ before committing."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from factories import app_context, seed_desk
from pilot_helpers import settle
from sqlalchemy import Engine
from sqlmodel import Session
from textual.pilot import Pilot

from salesengine_tui.app import SalesEngineApp
from salesengine_tui.base.clock import FixedClock


@pytest.fixture
def shell(engine: Engine, clock: FixedClock) -> SalesEngineApp:
    with Session(engine, expire_on_commit=False) as session:
        desk = seed_desk(session)
        session.commit()
    return SalesEngineApp(app_context(engine, clock, desk.manager))


async def loaded(pilot: Pilot[None]) -> None:
    """Wait until the section's workers have delivered, and what they start has run (no
    loading indicator in the picture, the footer's keys refreshed): `settle`."""
    await settle(pilot)


def then(*keys: str) -> Callable[[Pilot[None]], object]:
    async def run(pilot: Pilot[None]) -> None:
        await loaded(pilot)
        await pilot.press(*keys)
        await loaded(pilot)

    return run


def test_pipeline_120x40(snap_compare, shell: SalesEngineApp) -> None:
    assert snap_compare(shell, terminal_size=(120, 40), run_before=loaded)


def test_pipeline_80x24(snap_compare, shell: SalesEngineApp) -> None:
    assert snap_compare(shell, terminal_size=(80, 24), run_before=loaded)


def test_help_80x24(snap_compare, shell: SalesEngineApp) -> None:
    assert snap_compare(shell, terminal_size=(80, 24), run_before=then("question_mark"))


def test_board_scrolled_right_80x24(snap_compare, shell: SalesEngineApp) -> None:
    """At 80 columns the board scrolls sideways and keeps the focused lane in view."""
    assert snap_compare(shell, terminal_size=(80, 24), run_before=then("l", "l", "l"))


def test_lost_reason_120x40(snap_compare, shell: SalesEngineApp) -> None:
    assert snap_compare(shell, terminal_size=(120, 40), run_before=then("m", "end", "enter"))
