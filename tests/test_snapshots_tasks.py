"""Snapshots of My tasks (Sales > Tasks) with fixed data and a fixed clock: the buckets, the
due column (overdue in warning style, today standing out), hostile text shown literally.
Update on purpose (`pytest --snapshot-update`), then look at the SVGs before committing."""

from __future__ import annotations

import pytest
from factories import Desk, app_context
from sqlalchemy import Engine
from test_snapshots_shell import then
from test_tasks_app import seed_tasks

from salesengine_tui.app import SalesEngineApp
from salesengine_tui.base.clock import FixedClock


@pytest.fixture
def rep_desk(engine: Engine, clock: FixedClock, desk: Desk) -> SalesEngineApp:
    seed_tasks(engine, desk)
    return SalesEngineApp(app_context(engine, clock, desk.rep))


@pytest.fixture
def manager_desk(engine: Engine, clock: FixedClock, desk: Desk) -> SalesEngineApp:
    seed_tasks(engine, desk)
    return SalesEngineApp(app_context(engine, clock, desk.manager))


def test_my_tasks_120x40(snap_compare, rep_desk: SalesEngineApp) -> None:
    assert snap_compare(rep_desk, terminal_size=(120, 40), run_before=then("6", "down"))


def test_my_tasks_80x24(snap_compare, rep_desk: SalesEngineApp) -> None:
    assert snap_compare(rep_desk, terminal_size=(80, 24), run_before=then("6"))


def test_everyones_tasks_120x40(snap_compare, manager_desk: SalesEngineApp) -> None:
    """A manager's "everyone": the assignee column (unassigned shown as such)."""
    assert snap_compare(manager_desk, terminal_size=(120, 40), run_before=then("6", "o"))


def test_quick_call_for_a_task_80x24(snap_compare, rep_desk: SalesEngineApp) -> None:
    """Quick Call from My tasks: the task preselected, the other open task said to stay."""
    assert snap_compare(rep_desk, terminal_size=(80, 24), run_before=then("6", "down", "c"))
