"""Snapshots of the Alerts screen and the pipeline settings with fixed data and a fixed clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from factories import FIXED_NOW, Desk, app_context
from sqlalchemy import Engine
from sqlmodel import Session
from test_snapshots_shell import then

from salesengine_tui.app import SalesEngineApp
from salesengine_tui.base.clock import FixedClock
from salesengine_tui.db.models import Notification


@pytest.fixture
def shell(engine: Engine, clock: FixedClock, desk: Desk) -> SalesEngineApp:
    rows = [
        ("upsell", "Tech John flagged a furnace for replacement at 84 Rainey St", "Hank Hill", 0.1),
        ("email_failed", "3 emails could not be sent: the provider refused the API key", None, 2),
        ("upsell", "Tech Ana flagged [bold]a heat pump[/] at 12 Oak Ln", "Peggy Hill", 26),
    ]
    with Session(engine) as s:
        for i, (kind, title, customer, hours) in enumerate(rows):
            s.add(Notification(
                user_id=desk.manager.id, kind=kind, title=title,
                customer_id=desk.customers[customer].id if customer else None,
                created_at=FIXED_NOW - timedelta(hours=hours),
                read_at=FIXED_NOW if i == 2 else None,
            ))  # fmt: skip
        s.commit()
    return SalesEngineApp(app_context(engine, clock, desk.manager))


def test_alerts_120x40(snap_compare, shell: SalesEngineApp) -> None:
    assert snap_compare(shell, terminal_size=(120, 40), run_before=then("5"))


def test_alerts_80x24(snap_compare, shell: SalesEngineApp) -> None:
    assert snap_compare(shell, terminal_size=(80, 24), run_before=then("5"))


def test_pipeline_settings_80x24(snap_compare, shell: SalesEngineApp) -> None:
    assert snap_compare(shell, terminal_size=(80, 24), run_before=then("E"))
