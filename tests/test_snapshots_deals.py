"""Snapshots of the deal screen and the deal form (new and edit) with fixed data and a fixed
clock: the small desk of `factories.seed_desk` and Luanne's upsell story (`deals_edit_data`),
whose deal is the oldest card of Site Visit Scheduled (`l` reaches it from the first lane)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from deals_edit_data import seed_upsell_story
from factories import Desk, app_context, stages_of
from pilot_helpers import wait_until
from sqlalchemy import Engine
from sqlmodel import Session
from test_snapshots_shell import loaded, then
from textual.pilot import Pilot

from salesengine_tui.app import SalesEngineApp
from salesengine_tui.base.clock import FixedClock
from salesengine_tui.db.models import Customer
from salesengine_tui.screens.customer_picker import CustomerPicker


@pytest.fixture
def shell(engine: Engine, clock: FixedClock, desk: Desk) -> SalesEngineApp:
    with Session(engine, expire_on_commit=False) as session:
        luanne = session.get(Customer, desk.customers["Luanne Platter"].id)
        stages = stages_of(session, "Residential Replacements")
        seed_upsell_story(session, desk.manager, desk.rep, luanne, stages)
        session.commit()
    return SalesEngineApp(app_context(engine, clock, desk.manager))


def typed_search(text: str) -> Callable[[Pilot[None]], object]:
    """`n` on the board, then `text` in the customer box, until its matches are listed."""

    async def run(pilot: Pilot[None]) -> None:
        await loaded(pilot)
        await pilot.press("n")
        await loaded(pilot)
        await pilot.press(*text)
        picker = pilot.app.screen.query_one(CustomerPicker)

        def listed() -> bool:
            """The matches of the whole text (not of its first letters): customers, then the
            "+ New lead" line naming what was typed."""
            options = picker.results.options
            return len(options) > 1 and f"“{text}”" in str(options[-1].prompt)

        await wait_until(pilot, listed, what="the matches of the whole text")
        await loaded(pilot)

    return run


def test_deal_screen_120x40(snap_compare, shell: SalesEngineApp) -> None:
    assert snap_compare(shell, terminal_size=(120, 40), run_before=then("l", "d"))


def test_deal_screen_80x24(snap_compare, shell: SalesEngineApp) -> None:
    assert snap_compare(shell, terminal_size=(80, 24), run_before=then("l", "d"))


def test_deal_form_new_120x40(snap_compare, shell: SalesEngineApp) -> None:
    assert snap_compare(shell, terminal_size=(120, 40), run_before=typed_search("hil"))


def test_deal_form_new_80x24(snap_compare, shell: SalesEngineApp) -> None:
    assert snap_compare(shell, terminal_size=(80, 24), run_before=typed_search("hil"))


def test_deal_form_edit_120x40(snap_compare, shell: SalesEngineApp) -> None:
    assert snap_compare(shell, terminal_size=(120, 40), run_before=then("l", "e"))


def test_deal_form_edit_80x24(snap_compare, shell: SalesEngineApp) -> None:
    assert snap_compare(shell, terminal_size=(80, 24), run_before=then("l", "e"))
