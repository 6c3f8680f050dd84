"""Snapshots of the dashboard with fixed data (`seed_desk` plus `dashboard_data`) and a fixed
clock. Update on purpose (`pytest --snapshot-update`), then look at the SVGs in
tests/__snapshots__ before committing."""

from __future__ import annotations

import pytest
from dashboard_data import seed_dashboard
from factories import app_context, seed_desk
from sqlalchemy import Engine
from sqlmodel import Session
from test_snapshots_shell import loaded, then

from salesengine_tui.app import SalesEngineApp
from salesengine_tui.base.clock import FixedClock


@pytest.fixture
def dashboard(engine: Engine, clock: FixedClock) -> SalesEngineApp:
    with Session(engine, expire_on_commit=False) as session:
        desk = seed_desk(session)
        seed_dashboard(session, desk)
        session.commit()
    return SalesEngineApp(app_context(engine, clock, desk.manager), section="dashboard")


def test_dashboard_120x40(snap_compare, dashboard: SalesEngineApp) -> None:
    assert snap_compare(dashboard, terminal_size=(120, 40), run_before=loaded)


def test_dashboard_80x24(snap_compare, dashboard: SalesEngineApp) -> None:
    """Stacked: the figures first, the page scrolls."""
    assert snap_compare(dashboard, terminal_size=(80, 24), run_before=loaded)


def test_dashboard_80x24_on_the_feed(snap_compare, dashboard: SalesEngineApp) -> None:
    """Tab to the feed: the page scrolls to it."""
    assert snap_compare(dashboard, terminal_size=(80, 24), run_before=then("tab", "tab"))


def test_dashboard_commercial_120x40(snap_compare, dashboard: SalesEngineApp) -> None:
    """`p`: the next pipeline (nothing won or lost there yet)."""
    assert snap_compare(dashboard, terminal_size=(120, 40), run_before=then("p"))
