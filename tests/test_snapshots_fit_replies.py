"""Snapshots of a customer's reply where people read it, at 80x24 and 120x40, with fixed data
and a fixed clock: Hank Hill answered a follow-up (a reply with markup-looking text and an
escape sequence, a quoted email below it); his profile's timeline, the reply read in full, and
his deal's screen. Update on purpose (`pytest --snapshot-update`), then look at the SVGs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from factories import FIXED_NOW, Desk, app_context
from sqlalchemy import Engine, text
from test_replies import HOSTILE, reply_event, settings
from test_snapshots_fit_profile import SIZES, profile_then

from salesengine_tui.app import SalesEngineApp
from salesengine_tui.base.clock import FixedClock
from salesengine_tui.db.engine import session_scope
from salesengine_tui.email import replies


@pytest.fixture
def app(engine: Engine, clock: FixedClock, desk: Desk) -> SalesEngineApp:
    with session_scope(engine) as s:
        s.execute(text("UPDATE customers SET email = 'hank@example.com' WHERE name = 'Hank Hill'"))
        event = reply_event(from_email="Hank <hank@example.com>", body=HOSTILE,
                            at=FIXED_NOW - timedelta(minutes=5))  # fmt: skip
        match = replies.resolve(s, settings(), [event])[event.key]
        assert replies.apply(s, [(event, match)], now=FIXED_NOW) == 1
    return SalesEngineApp(app_context(engine, clock, desk.manager))


CASES = {
    "profile": (),  # the reply heads the timeline: its subject, then its text
    "entry": ("enter",),  # read in full
    "deal_screen": ("d",),  # his one deal opens: its latest interactions, one line each
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("case", CASES)
def test_reply_fit(snap_compare, app: SalesEngineApp, desk: Desk, case: str, size: str) -> None:
    keys = profile_then(desk.customers["Hank Hill"].id, *CASES[case])
    assert snap_compare(app, terminal_size=SIZES[size], run_before=keys)
