"""Snapshots of the customer profile and what opens from it, at 80x24 and 120x40, with fixed
data and a fixed clock: a customer with a long name and email whose timeline holds a call, a
change to a deal's value and its stage moves (`test_profile_fit.seed_long_profile`); the email
opt-out's questions (out, then back in); the customer's deals; a timeline entry read in full;
the deal screen. Update on purpose (`pytest --snapshot-update`), then look at the SVGs."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from factories import Desk, app_context
from sqlalchemy import Engine
from sqlmodel import Session
from test_profile_fit import seed_long_profile
from test_snapshots_shell import loaded
from textual.pilot import Pilot

from salesengine_tui.app import SalesEngineApp
from salesengine_tui.base.clock import FixedClock
from salesengine_tui.screens.customer import CustomerScreen

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}


@pytest.fixture
def shell(engine: Engine, clock: FixedClock, desk: Desk) -> tuple[SalesEngineApp, uuid.UUID]:
    """The app (on the board) and the long profile's customer."""
    with Session(engine, expire_on_commit=False) as session:
        maria = seed_long_profile(session, desk)
        session.commit()
    return SalesEngineApp(app_context(engine, clock, desk.manager)), maria.id


def profile_then(customer_id: uuid.UUID, *keys: str) -> Callable[[Pilot[None]], object]:
    """Open the profile over the board, then press `keys` (one at a time, each let finish: a
    key can open a dialog or a screen whose worker must deliver before the next)."""

    async def run(pilot: Pilot[None]) -> None:
        await loaded(pilot)
        pilot.app.push_screen(CustomerScreen(pilot.app.ctx, customer_id))
        await loaded(pilot)
        for key in keys:
            await pilot.press(key)
            await loaded(pilot)

    return run


CASES = {
    "profile": (),  # the facts and the timeline: a call, a value change, two stage moves
    "opt_out_confirm": ("U",),
    "opt_in_confirm": ("U", "y", "U"),  # says when and how they opted out
    "deals_list": ("d",),
    "timeline_entry": ("down", "down", "enter"),  # a stage move, read in full
    "deal_screen": ("d", "enter"),
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("case", CASES)
def test_profile_fit(
    snap_compare, shell: tuple[SalesEngineApp, uuid.UUID], case: str, size: str
) -> None:
    app, customer_id = shell
    keys = profile_then(customer_id, *CASES[case])
    assert snap_compare(app, terminal_size=SIZES[size], run_before=keys)
