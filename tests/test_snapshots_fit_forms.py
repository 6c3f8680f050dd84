"""Snapshots of the forms, pickers and dialogs at 80x24 and 120x40: each fits, nothing cut
without "…", its keys line whole, the screen behind dimmed (asserted too, before the picture).
The small desk of `factories.seed_desk` and a fixed clock; each dialog reached by the keys of
`test_forms_fit.STATES`, the work it waits on done."""

from __future__ import annotations

import pytest
from factories import Desk, app_context
from pilot_helpers import wait_until
from sqlalchemy import Engine
from test_forms_fit import STATES, Steps, assert_centred_and_whole, keys, seed_dialog_data, typed
from textual.pilot import Pilot

from salesengine_tui.app import SalesEngineApp
from salesengine_tui.base.clock import FixedClock


@pytest.fixture
def shell(engine: Engine, clock: FixedClock, desk: Desk) -> SalesEngineApp:
    seed_dialog_data(engine, desk)
    return SalesEngineApp(app_context(engine, clock, desk.manager))


async def hits_listed(pilot: Pilot[None]) -> None:
    """The search lists the hits of everything typed in its box."""
    screen = pilot.app.screen
    await wait_until(pilot, lambda: screen.shown_for == "hill", what="the hits of the text")


# Dialogs whose behaviour other tests cover; here only how they look.
MORE: dict[str, Steps] = {
    "search": keys("ctrl+f", typed("hill"), hits_listed),
    "lost_reason": keys("m", "end", "enter"),
    "owner_picker": keys("A"),
    "text_prompt": keys("E", "a"),
}


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("state", [*STATES, *MORE])
def test_dialog_fits(
    snap_compare, shell: SalesEngineApp, state: str, size: tuple[int, int]
) -> None:
    steps = (STATES | MORE)[state]

    async def run(pilot: Pilot[None]) -> None:
        await steps(pilot)
        if state in STATES:  # its box centred, the screen behind dimmed, its keys line whole
            assert_centred_and_whole(shell)

    assert snap_compare(shell, terminal_size=size, run_before=run)
