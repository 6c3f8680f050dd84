"""Notifications: own and (managers) everyone's, read marks, the NOTIFY a trigger sends on
commit, and the app: unread count on the Alerts tab, a toast when the jobs runner's upsell sync
flags a ticket, the Alerts screen (enter opens the customer and marks it read)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import psycopg
import pytest
from factories import FIXED_NOW, Desk, app_context
from pilot_helpers import settle, wait_listening, wait_until
from sqlalchemy import Engine, text
from sqlmodel import Session
from test_upsell import close_ticket
from test_upsell import sync as upsell_sync

from salesengine_tui.access.users import Actor
from salesengine_tui.activity import notifications
from salesengine_tui.app import SalesEngineApp
from salesengine_tui.base.clock import FixedClock
from salesengine_tui.base.errors import PermissionDenied
from salesengine_tui.db import live
from salesengine_tui.db.models import Notification
from salesengine_tui.screens.confirm import ConfirmDialog
from salesengine_tui.screens.customer import CustomerScreen
from salesengine_tui.screens.notifications import NotificationsScreen
from salesengine_tui.widgets.app_header import AppHeader

SIZE = (120, 40)


def notify(
    engine: Engine, desk: Desk, *, user=None, title="Upsell: Hank Hill", n=1, hours=0
) -> None:
    with Session(engine) as s:
        for i in range(n):
            s.add(Notification(user_id=(user or desk.manager).id, kind="upsell",
                               title=f"{title} {i}" if n > 1 else title,
                               body="Furnace at end of life",
                               created_at=FIXED_NOW - timedelta(hours=hours, minutes=i),
                               customer_id=desk.customers["Hank Hill"].id))  # fmt: skip
        s.commit()


def test_own_everyone_and_read_marks(engine: Engine, desk: Desk) -> None:
    manager, rep = Actor.of(desk.manager), Actor.of(desk.rep)
    notify(engine, desk, n=3)
    notify(engine, desk, user=desk.rep, title="[bold]for Sam[/]")
    with Session(engine) as s:
        assert notifications.unread_count(s, manager) == 3
        assert notifications.unread_count(s, rep) == 1
        assert [i.title for i in notifications.recent(s, rep)] == ["[bold]for Sam[/]"]
        assert len(notifications.recent(s, manager, everyone=True)) == 4
        with pytest.raises(PermissionDenied, match="only managers may see every notification"):
            notifications.recent(s, rep, everyone=True)
        sams = notifications.recent(s, rep)[0].id
        assert notifications.mark_read(s, manager, [sams], now=FIXED_NOW) == 0  # not hers
        first = notifications.recent(s, manager)[0].id
        assert notifications.mark_read(s, manager, [first], now=FIXED_NOW) == 1
        assert notifications.unread_count(s, manager) == 2
        assert notifications.mark_read(s, manager, None, now=FIXED_NOW) == 2
        s.commit()
        assert notifications.unread_count(s, manager) == 0
        assert notifications.unread_count(s, rep) == 1


def test_a_notify_goes_out_on_commit(engine: Engine, desk: Desk) -> None:
    with psycopg.connect(live.conninfo(engine.url), autocommit=True) as conn:
        conn.execute(f"LISTEN {notifications.CHANNEL}")
        with Session(engine) as s:
            s.add(Notification(user_id=desk.manager.id, kind="upsell", title="Hi",
                               created_at=FIXED_NOW))  # fmt: skip
            s.flush()
            assert list(conn.notifies(timeout=0.3, stop_after=1)) == []  # not before commit
            s.commit()
        heard = list(conn.notifies(timeout=3, stop_after=1))
    arrived = notifications.Arrived.from_json(heard[0].payload)
    assert arrived is not None and arrived.user_id == desk.manager.id and arrived.title == "Hi"


def unread_tab(app: SalesEngineApp) -> str:
    header = app.screen.query_one(AppHeader)
    return str(header.query_one("#tab-notifications").render())


async def test_an_upsell_flag_reaches_an_open_app_within_seconds(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    ctx = app_context(engine, clock, desk.manager)
    ctx.settings = ctx.settings.model_copy(update={"live_updates": True})
    app = SalesEngineApp(ctx)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        await wait_until(pilot, lambda: unread_tab(app) == "5 Alerts")
        await wait_listening(pilot, app.alerts_listening, "alerts")
        close_ticket(engine, desk)
        report = await asyncio.to_thread(upsell_sync, engine)  # the jobs runner's sync
        assert report.notifications == 1
        await wait_until(pilot, lambda: unread_tab(app) == "5 Alerts  1 ", seconds=5)
        toasts = [n.message for n in app._notifications]
        assert any("flagged a system for replacement" in t for t in toasts), toasts
        # (no settle here: the live listeners are workers that never finish)
        await pilot.press("5")
        await wait_until(pilot, lambda: bool(getattr(app.screen, "items", None)))
        assert isinstance(app.screen, NotificationsScreen)
        assert app.screen.items[0].unread
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, CustomerScreen))
        manager = Actor.of(desk.manager)

        def all_read() -> bool:
            with Session(engine) as s:
                return notifications.unread_count(s, manager) == 0

        await wait_until(pilot, all_read)
        await pilot.press("escape")
        await wait_until(pilot, lambda: unread_tab(app) == "5 Alerts")


async def test_alerts_screen_keys(engine: Engine, clock: FixedClock, desk: Desk) -> None:
    notify(engine, desk, n=2)
    notify(engine, desk, user=desk.rep, title="Sam's own", hours=1)  # below Dana's
    app = SalesEngineApp(app_context(engine, clock, desk.rep))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("5")
        await settle(pilot)
        assert [i.title for i in app.screen.items] == ["Sam's own"]
        assert unread_tab(app) == "5 Alerts  1 "
        await pilot.press("a")  # a rep: told, and still their own
        await settle(pilot)
        assert any("Only managers may see everyone's" in n.message for n in app._notifications)
        await pilot.press("M")  # asks first
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(pilot)
        assert unread_tab(app) == "5 Alerts"
    app = SalesEngineApp(app_context(engine, clock, desk.manager))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5")
        await settle(pilot)
        assert len(app.screen.items) == 2
        await pilot.press("a")
        await settle(pilot)
        assert len(app.screen.items) == 3
        await pilot.press("space")
        await settle(pilot)
        with engine.connect() as conn:
            unread = conn.execute(text("SELECT count(*) FROM notifications WHERE read_at IS NULL"))
            assert unread.scalar_one() == 1  # Dana read one of her two (Sam read his with M)
