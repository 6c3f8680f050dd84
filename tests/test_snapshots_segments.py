"""Snapshots of the segment builder and the blast screen with fixed data and a fixed clock."""

from __future__ import annotations

import pytest
from factories import Desk
from sqlalchemy import Engine
from test_blasts import seed as seed_blast
from test_segments import seed
from test_segments_app import PLAN, make_app
from test_snapshots_shell import then

from salesengine_tui.app import SalesEngineApp
from salesengine_tui.base.clock import FixedClock


@pytest.fixture
def shell(engine: Engine, clock: FixedClock, desk: Desk) -> SalesEngineApp:
    seed(engine, desk)
    seed_blast(engine)
    return make_app(engine, clock, desk.manager)


GROUPED = f"{PLAN} and (city = Dallas or has_email = no)"


def test_segments_120x40(snap_compare, shell: SalesEngineApp) -> None:
    assert snap_compare(
        shell, terminal_size=(120, 40), run_before=then("3", "t", *GROUPED, "enter")
    )


def test_segments_80x24(snap_compare, shell: SalesEngineApp) -> None:
    assert snap_compare(shell, terminal_size=(80, 24), run_before=then("3", "t", *GROUPED, "enter"))


def test_segments_text_error_80x24(snap_compare, shell: SalesEngineApp) -> None:
    keys = ("3", "t", *"equipment.age > ten", "enter")
    assert snap_compare(shell, terminal_size=(80, 24), run_before=then(*keys))


BLAST = ("3", "t", *"lead_source = 'Blast test'", "enter", "b")


def test_blast_120x40(snap_compare, shell: SalesEngineApp) -> None:
    assert snap_compare(shell, terminal_size=(120, 40), run_before=then(*BLAST))


def test_blast_80x24(snap_compare, shell: SalesEngineApp) -> None:
    assert snap_compare(shell, terminal_size=(80, 24), run_before=then(*BLAST))
