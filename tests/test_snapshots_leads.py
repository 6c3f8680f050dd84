"""Snapshots of the leads inbox and the call dialog with fixed data and a fixed clock."""

from __future__ import annotations

import pytest
from factories import Desk, app_context
from sqlalchemy import Engine
from test_snapshots_shell import then

from salesengine_tui.app import SalesEngineApp
from salesengine_tui.base.clock import FixedClock


@pytest.fixture
def shell(engine: Engine, clock: FixedClock, desk: Desk) -> SalesEngineApp:
    return SalesEngineApp(app_context(engine, clock, desk.manager))


def test_leads_120x40(snap_compare, shell: SalesEngineApp) -> None:
    assert snap_compare(shell, terminal_size=(120, 40), run_before=then("2", "j", "space"))


def test_leads_80x24(snap_compare, shell: SalesEngineApp) -> None:
    assert snap_compare(shell, terminal_size=(80, 24), run_before=then("2"))


def test_quick_call_120x40(snap_compare, shell: SalesEngineApp) -> None:
    assert snap_compare(shell, terminal_size=(120, 40), run_before=then("2", "c", "2"))


def test_customer_profile_120x40(snap_compare, shell: SalesEngineApp) -> None:
    assert snap_compare(
        shell, terminal_size=(120, 40), run_before=then("2", "down", "down", "enter")
    )


def test_customer_profile_80x24(snap_compare, shell: SalesEngineApp) -> None:
    assert snap_compare(
        shell, terminal_size=(80, 24), run_before=then("2", "down", "down", "enter")
    )


def test_quick_call_80x24(snap_compare, shell: SalesEngineApp) -> None:
    assert snap_compare(shell, terminal_size=(80, 24), run_before=then("2", "c"))
