"""Every list takes j/k and the mouse: a click puts the cursor on a row, a double-click opens it
(what `enter` does there), the wheel scrolls. The leads table, My tasks, pipeline settings
(a SafeTable). Plus the leads at 80x24 (every column) and every section's footer there."""

from __future__ import annotations

from datetime import timedelta

import pytest
from factories import FIXED_NOW, Desk, add_customer, add_task, app_context
from pilot_helpers import settle
from sqlalchemy import Engine
from sqlmodel import Session
from textual import events
from textual.widget import Widget
from textual.widgets import Footer, Static

from salesengine_tui.app import SalesEngineApp
from salesengine_tui.base.clock import FixedClock
from salesengine_tui.db.models import Customer, User
from salesengine_tui.screens.customer import CustomerScreen
from salesengine_tui.screens.pipeline_settings import PipelineSettingsScreen
from salesengine_tui.screens.sections import SECTIONS
from salesengine_tui.widgets.leads_table import LeadsTable
from salesengine_tui.widgets.safe_table import SafeTable
from salesengine_tui.widgets.task_list import TaskList

SIZE = (120, 40)
MANY = 80  # leads: more than a screenful


@pytest.fixture
def app(engine: Engine, clock: FixedClock, desk: Desk) -> SalesEngineApp:
    return SalesEngineApp(app_context(engine, clock, desk.manager))


def many_leads(engine: Engine) -> None:
    with Session(engine) as session:
        for n in range(MANY):
            add_customer(
                session,
                f"Lead {n:03}",
                created_at=FIXED_NOW - timedelta(hours=n + 1),
                n=500 + n,
            )
        session.commit()


def wheel(widget: Widget, down: bool = True) -> None:
    """One notch of the mouse wheel over `widget`, as the terminal reports it."""
    kind = events.MouseScrollDown if down else events.MouseScrollUp
    x, y = widget.region.x + 2, widget.region.y + 2
    widget.post_message(kind(widget, 2, 2, 0, 1 if down else -1, 0, False, False, False, x, y))


async def test_leads_table_click_double_click_wheel_and_j_k(
    app: SalesEngineApp, engine: Engine
) -> None:
    many_leads(engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        table = app.screen.query_one(LeadsTable)
        assert table.cursor == 0
        await pilot.press("j", "j", "k")
        assert table.cursor == 1

        await pilot.click(table, offset=(5, 4))  # the fifth row
        await settle(pilot)
        assert table.cursor == 4 and table.has_focus
        assert not isinstance(app.screen, CustomerScreen)  # a click only selects

        wheel(table)
        await pilot.pause()
        assert table.scroll_offset.y > 0  # the rows moved up; the cursor stayed on its lead
        assert table.cursor == 4
        wheel(table, down=False)
        await pilot.pause()
        assert table.scroll_offset.y == 0

        await pilot.double_click(table, offset=(5, 2))
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen)
        assert table.cursor == 2


def two_overdue_tasks(engine: Engine, desk: Desk) -> None:
    """Sam's: two overdue calls, before the seeded follow-up (upcoming)."""
    with Session(engine) as session:
        sam = session.get(User, desk.rep.id)
        for n, name in enumerate(("Peggy Hill", "Dale Gribble")):
            customer = session.get(Customer, desk.customers[name].id)
            assert customer is not None and sam is not None
            due = FIXED_NOW - timedelta(days=2 - n)
            add_task(session, customer, f"Call {name}", due_at=due, assignee=sam, n=700 + n)
        session.commit()


async def test_task_list_click_and_double_click(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    two_overdue_tasks(engine, desk)
    app = SalesEngineApp(app_context(engine, clock, desk.rep))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        tasks = app.screen.query_one(TaskList)
        first = tasks.cursor
        await pilot.press("j")
        assert tasks.cursor > first
        await pilot.press("k")
        assert tasks.cursor == first

        # Line 0 is the Overdue header; a click on it lands on its first task.
        await pilot.click(tasks, offset=(5, 0))
        await settle(pilot)
        assert tasks.cursor == 1
        await pilot.click(tasks, offset=(5, 2))
        await settle(pilot)
        assert tasks.cursor == 2 and not isinstance(app.screen, CustomerScreen)
        opened = tasks.current_task
        assert opened is not None
        await pilot.double_click(tasks, offset=(5, 2))
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen)
        assert app.screen.customer_id == opened.customer_id


async def test_pipeline_settings_table_takes_j_k_and_a_double_click(app: SalesEngineApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("E")
        await settle(pilot)
        assert isinstance(app.screen, PipelineSettingsScreen)
        table = app.screen.query_one(SafeTable)
        assert table.cursor_row == 0
        await pilot.press("j", "j", "k")
        assert table.cursor_row == 1
        await pilot.click(table, offset=(4, 3))  # the header line, then rows 0, 1, 2
        await pilot.pause()
        assert table.cursor_row == 2
        screen = app.screen
        await pilot.double_click(table, offset=(4, 4))
        await settle(pilot)
        assert table.cursor_row == 3
        assert app.screen is not screen  # `enter` on a stage: its form


# --- 80x24 -----------------------------------------------------------------------------------------


async def test_leads_at_80x24_show_every_column(app: SalesEngineApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        header = str(app.screen.query_one("#leads-header", Static).render())
        for title in ("Name", "Source", "Age", "Last touch", "Next task", "Owner", "Phone"):
            assert title in header
        table = app.screen.query_one(LeadsTable)
        first = table.render_line(0).text
        assert "Hank Hill" in first and "Referral" in first and "Sam Ortiz"[:7] in first


def footer_text(app: SalesEngineApp) -> str:
    """What the footer shows on the screen: its keys that lie inside the terminal."""
    footer = app.screen.query_one(Footer)
    width = app.size.width
    shown = [
        key
        for key in footer.query("FooterKey")
        if key.region.width and key.region.right <= width and key.region.x >= 0
    ]
    return " ".join(" ".join(str(key.render()).split()) for key in shown)


async def test_every_section_footer_keeps_keys_and_quit_at_80x24(app: SalesEngineApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for section in SECTIONS:
            await pilot.press(section.key)
            await settle(pilot)
            shown = footer_text(app)
            assert "? Keys" in shown and "q Quit" in shown, f"{section.title}: {shown}"
