"""Snapshots (issue 16, outreach) at 80x24 and 120x40, fixed data and a fixed clock: the blast
screen unconfigured (the settings to make, the preview's stand-ins) and configured, the segment
builder with long names and emails in its preview, the saved segments list, and the segments
home with a blast sent to a long-named segment."""

from __future__ import annotations

import pytest
from factories import FIXED_NOW, Desk
from sqlalchemy import Engine
from sqlmodel import Session
from test_blasts import SETTINGS
from test_blasts import seed as seed_blast
from test_outreach_fit import UNCONFIGURED, app_with, seed_long
from test_snapshots_shell import then

from salesengine_tui.access.users import Actor
from salesengine_tui.app import SalesEngineApp
from salesengine_tui.base.clock import FixedClock
from salesengine_tui.marketing import blasts, saved_segments, segments

SIZES = [(80, 24), (120, 40)]
BLAST = ("3", "t", *"lead_source = 'Blast test'", "enter", "b")
SAVED = {
    "Old units in Dallas and Plano, not serviced this year": (
        "equipment.age > 10 and last_service > 12mo and (city = Dallas or city = Plano)"
    ),
    "Blast test": "lead_source = 'Blast test'",
    "Long names": "lead_source = 'Long test'",
}


def seeded(engine: Engine, desk: Desk) -> None:
    seed_blast(engine)
    seed_long(engine)
    actor = Actor.of(desk.manager)
    with Session(engine) as s:
        for name, text in SAVED.items():
            saved_segments.save(s, name, segments.parse(text), actor=actor, now=FIXED_NOW)
        blasts.send(
            s, actor=actor, definition=segments.parse(SAVED["Blast test"]),
            subject="{first_name}, is your {equipment_kind} ready for another year?",
            body="Hello", confirm=3, now=FIXED_NOW, settings=SETTINGS,
            segment_name="Old units in Dallas and Plano, not serviced this year",
        )  # fmt: skip
        s.commit()


@pytest.fixture
def configured(engine: Engine, clock: FixedClock, desk: Desk) -> SalesEngineApp:
    seeded(engine, desk)
    return app_with(engine, clock, desk.manager, SETTINGS)


@pytest.fixture
def unconfigured(engine: Engine, clock: FixedClock, desk: Desk) -> SalesEngineApp:
    seeded(engine, desk)
    return app_with(engine, clock, desk.manager, UNCONFIGURED)


@pytest.mark.parametrize("size", SIZES)
def test_blast_unconfigured(snap_compare, unconfigured: SalesEngineApp, size) -> None:
    assert snap_compare(unconfigured, terminal_size=size, run_before=then(*BLAST))


@pytest.mark.parametrize("size", SIZES)
def test_blast_configured(snap_compare, configured: SalesEngineApp, size) -> None:
    assert snap_compare(configured, terminal_size=size, run_before=then(*BLAST))


@pytest.mark.parametrize("size", SIZES)
def test_segment_preview_long_emails(snap_compare, configured: SalesEngineApp, size) -> None:
    keys = ("3", "t", *"lead_source = 'Long test'", "enter")
    assert snap_compare(configured, terminal_size=size, run_before=then(*keys))


@pytest.mark.parametrize("size", SIZES)
def test_saved_segments_list(snap_compare, configured: SalesEngineApp, size) -> None:
    assert snap_compare(configured, terminal_size=size, run_before=then("3", "l"))


@pytest.mark.parametrize("size", SIZES)
def test_segments_home_with_a_blast(snap_compare, configured: SalesEngineApp, size) -> None:
    assert snap_compare(configured, terminal_size=size, run_before=then("3"))
