"""Snapshots of what happened to blasts, at 80x24 and 120x40, with fixed data and a fixed clock
(`test_blast_outcomes.seed_outcomes` on the seeded desk): the segments home's recent blasts
with their counts and legend, the dashboard's "Recent blasts" cell (beside my day at 120x40,
at the end of the stacked page at 80x24), and the timelines of a customer whose email bounced
and of one whose email was delivered. Update on purpose (`pytest --snapshot-update`), then look
at the SVGs."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from factories import Desk, app_context
from sqlalchemy import Engine
from sqlmodel import Session
from test_blast_outcomes import seed_outcomes
from test_snapshots_shell import loaded
from textual.pilot import Pilot

from salesengine_tui.app import SalesEngineApp
from salesengine_tui.base.clock import FixedClock
from salesengine_tui.screens.customer import CustomerScreen

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}


@pytest.fixture
def shell(engine: Engine, clock: FixedClock, desk: Desk) -> tuple[SalesEngineApp, Desk]:
    with Session(engine, expire_on_commit=False) as session:
        seed_outcomes(session, desk)
        session.commit()
    return SalesEngineApp(app_context(engine, clock, desk.manager)), desk


def keys_then(*keys: str) -> Callable[[Pilot[None]], object]:
    async def run(pilot: Pilot[None]) -> None:
        await loaded(pilot)
        for key in keys:
            await pilot.press(key)
            await loaded(pilot)

    return run


def profile_of(desk: Desk, name: str) -> Callable[[Pilot[None]], object]:
    async def run(pilot: Pilot[None]) -> None:
        await loaded(pilot)
        pilot.app.push_screen(CustomerScreen(pilot.app.ctx, desk.customers[name].id))
        await loaded(pilot)

    return run


@pytest.mark.parametrize("size", SIZES)
def test_segments_home_counts(snap_compare, shell: tuple[SalesEngineApp, Desk], size: str) -> None:
    app, _ = shell
    assert snap_compare(app, terminal_size=SIZES[size], run_before=keys_then("3"))


@pytest.mark.parametrize("size", SIZES)
def test_dashboard_recent_blasts(
    snap_compare, shell: tuple[SalesEngineApp, Desk], size: str
) -> None:
    """At 80x24 the page is scrolled to its end, where the cell is."""
    app, _ = shell
    keys = ("4",) if size == "120x40" else ("4", "end")
    assert snap_compare(app, terminal_size=SIZES[size], run_before=keys_then(*keys))


@pytest.mark.parametrize("name", ["Hank Hill", "Peggy Hill"])
@pytest.mark.parametrize("size", SIZES)
def test_profile_email_fate(
    snap_compare, shell: tuple[SalesEngineApp, Desk], size: str, name: str
) -> None:
    """Hank's email bounced ("bounced: mailbox does not exist"), Peggy's was delivered."""
    app, desk = shell
    assert snap_compare(app, terminal_size=SIZES[size], run_before=profile_of(desk, name))
