"""The customer profile through Pilot: opened from the inbox, contact edits with validation and
an optimistic lock, logging an interaction, its open tasks (`t` adds, `x` completes, `c`
calls); and the timeline over thousands of entries."""

from __future__ import annotations

import io
from datetime import timedelta

from factories import FIXED_NOW, Desk, add_interaction, add_task, app_context
from pilot_helpers import settle
from rich.console import Console
from sqlalchemy import Engine, select, text
from sqlmodel import Session
from test_leads_app import customer
from textual.widgets import Static

from salesengine_tui.activity import feed as activity
from salesengine_tui.app import SalesEngineApp
from salesengine_tui.base.clock import FixedClock
from salesengine_tui.db.models import CustomerInteraction, Task, TaskKind
from salesengine_tui.screens.confirm import ConfirmDialog
from salesengine_tui.screens.contact_form import ContactForm
from salesengine_tui.screens.customer import CustomerScreen
from salesengine_tui.screens.picker import Picker
from salesengine_tui.screens.quick_call import QuickCallScreen
from salesengine_tui.screens.task_form import TaskForm
from salesengine_tui.widgets.timeline_list import TimelineList

SIZE = (120, 40)


async def open_hank(app: SalesEngineApp, pilot) -> None:
    await pilot.press("2")
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(app.screen, CustomerScreen)
    assert app.screen.profile.name == "Hank Hill"


async def test_edit_contact_validates_then_saves(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    app = SalesEngineApp(app_context(engine, clock, desk.manager))
    async with app.run_test(size=SIZE) as pilot:
        await open_hank(app, pilot)
        await pilot.press("e")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, ContactForm)
        form.query_one("#contact-email").value = "hank@strickland"
        form.query_one("#contact-phone").value = "(214) 555-0199"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form  # not closed: the email is wrong
        error = str(form.query_one("#contact-error").render())
        assert "Email" in error and "not a valid email address" in error
        assert form.focused.id == "contact-email"
        form.query_one("#contact-email").value = "hank@strickland.com"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen)
    hank = customer(engine, "Hank Hill")
    assert (hank.email, hank.phone) == ("hank@strickland.com", "+12145550199")


async def test_edit_loses_to_a_newer_change_and_says_so(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    app = SalesEngineApp(app_context(engine, clock, desk.manager))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_hank(app, pilot)
        await pilot.press("e")
        await pilot.pause()
        with engine.begin() as conn:  # someone else, meanwhile
            conn.execute(
                text(
                    "UPDATE customers SET city = 'Arlen', version = version + 1 WHERE name = 'Hank Hill'"
                )
            )
        app.screen.query_one("#contact-city").value = "Dallas"
        await pilot.press("ctrl+s")
        await settle(pilot)
        toast = "".join(str(t.render()) for t in app.screen.query("Toast"))
        assert "someone else changed this customer" in toast
    assert customer(engine, "Hank Hill").city == "Arlen"


async def test_log_an_interaction_shows_on_the_timeline(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    app = SalesEngineApp(app_context(engine, clock, desk.manager))
    async with app.run_test(size=SIZE) as pilot:
        await open_hank(app, pilot)
        before = app.screen.query_one(TimelineList).count
        await pilot.press("i", "down", "down", "down", "enter")  # Email, inbound
        await pilot.press(*"[@click=app.quit]asked about financing", "enter")
        await settle(pilot)
        timeline = app.screen.query_one(TimelineList)
        assert timeline.count == before + 1
        top = "\n".join(timeline.render_line(y).text for y in range(3))
        assert "✉ Email in" in top and "[@click=app.quit]asked about financing" in top
        await pilot.click(TimelineList, offset=(10, 1))
        assert app.is_running
    with Session(engine) as s:
        last = (
            s.exec(select(CustomerInteraction).order_by(CustomerInteraction.created_at.desc()))
            .scalars()
            .first()
        )
        assert (last.type, last.direction, last.created_by) == ("email", "inbound", desk.manager.id)


def test_timeline_pages_through_five_thousand_entries(engine: Engine, desk: Desk) -> None:
    hank = desk.customers["Hank Hill"]
    with Session(engine) as s:
        for i in range(5000):
            add_interaction(
                s,
                s.merge(hank),
                s.merge(desk.rep),
                at=FIXED_NOW - timedelta(minutes=i),
                notes=f"n{i}",
            )
        s.commit()
        total = activity.timeline_count(s, hank.id)
        seen, before = [], None
        while True:
            page = activity.recent_activity(s, 100, customer_id=hank.id, before=before)
            seen += page
            if len(page) < 100:
                break
            before = page[-1].key
        assert len(seen) == total >= 5001 and len({i.id for i in seen}) == total
        assert [i.at for i in seen] == sorted((i.at for i in seen), reverse=True)
        assert activity.recent_activity(s, 100, customer_id=hank.id, offset=4000) == seen[4000:4100]


async def test_enter_reads_the_whole_entry_and_dashboard_opens_customers(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    long_notes = "First line [bold]\n" + "word " * 2000  # 10,000+ characters
    with Session(engine) as s:
        add_interaction(
            s,
            s.merge(desk.customers["Hank Hill"]),
            s.merge(desk.rep),
            at=FIXED_NOW,
            notes=long_notes,
        )
        s.commit()
    app = SalesEngineApp(app_context(engine, clock, desk.manager))
    async with app.run_test(size=SIZE) as pilot:
        await open_hank(app, pilot)
        await pilot.press("enter")
        await pilot.pause()
        shown = str(app.screen.query_one("#entry-notes").render())
        assert shown.startswith("First line [bold]\nword word") and shown.count("word") == 2000
        await pilot.press("escape", "escape")
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        app.screen.query_one("#activity").focus()
        await pilot.press("enter")  # the newest activity: Hank's long call
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen) and app.screen.profile.name == "Hank Hill"


async def test_U_opts_out_of_email_only_once_confirmed(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    """`o` (only mine on the board and the inbox) does nothing here; `U` asks first (the
    dialog's every answer: tests/test_profile_fit.py)."""
    app = SalesEngineApp(app_context(engine, clock, desk.manager))
    async with app.run_test(size=SIZE) as pilot:
        await open_hank(app, pilot)
        await pilot.press("o")
        await settle(pilot)
        assert customer(engine, "Hank Hill").email_opt_out is False
        await pilot.press("U")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(pilot)
        assert app.screen.profile.email_opt_out is True
    assert customer(engine, "Hank Hill").email_opt_out is True


def shown(static: Static) -> str:
    """What a Static holding a Rich table shows, as text (80 columns)."""
    console = Console(width=80, file=io.StringIO(), record=True)
    console.print(static.content)
    return console.export_text()


def seed_hank_tasks(engine: Engine, desk: Desk) -> None:
    """Hank Hill (seeded with Sam's "Follow up" call, Thu 09:00): an overdue to-do of Dana's
    with a hostile title, and six more upcoming calls of Sam's (eight open in all)."""
    with Session(engine) as s:
        hank, sam, dana = (
            s.merge(x) for x in (desk.customers["Hank Hill"], desk.rep, desk.manager)
        )
        add_task(s, hank, "[@click=app.quit]Quote\x1b[2J", due_at=FIXED_NOW - timedelta(days=3),
                 all_day=True, kind=TaskKind.todo, assignee=dana)  # fmt: skip
        for i in range(6):
            add_task(s, hank, f"Later call {i}", due_at=FIXED_NOW + timedelta(days=10 + i),
                     assignee=sam)  # fmt: skip
        s.commit()


async def test_profile_lists_open_tasks_and_x_completes_one(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    seed_hank_tasks(engine, desk)
    app = SalesEngineApp(app_context(engine, clock, desk.manager))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await open_hank(app, pilot)
        profile = app.screen.profile
        assert profile.open_task_count == 8 and len(profile.open_tasks) == 5
        records = shown(app.screen.query_one("#customer-records"))
        assert "Open tasks (8)" in records and "… and 3 more" in records
        assert "[@click=app.quit]Quote␛[2J" in records and "3d overdue" in records
        contact = shown(app.screen.query_one("#customer-contact"))
        assert "Next task" in contact and "3d overdue" in contact
        await pilot.press("x")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, Picker)
        labels = [str(label) for label, _ in picker.choices]
        assert "[@click=app.quit]Quote" in labels[0] and "Follow up" in labels[1]
        await pilot.press("down", "enter")  # the follow-up
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen)
        assert app.screen.profile.open_task_count == 7
        toasts = [n.message for n in app._notifications]
        assert any("Done: call: Follow up" in t for t in toasts), toasts
    with Session(engine) as s:
        done = s.exec(select(Task).where(Task.title == "Follow up")).scalars().one()
    assert (done.done_at, done.done_by) == (FIXED_NOW, desk.manager.id)


async def test_profile_t_adds_a_task_and_c_calls(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    app = SalesEngineApp(app_context(engine, clock, desk.rep))
    async with app.run_test(size=SIZE) as pilot:
        await open_hank(app, pilot)
        await pilot.press("t")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, TaskForm)
        assert form.focused.id == "task-title"  # the customer is known: the title first
        assert "Hank Hill" in str(form.query_one("#task-heading").render())
        await pilot.press(*"Site visit for the quote", "enter", *"+7 10am")
        await pilot.press("tab", "s", "enter")  # kind: site visit; enter saves
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen)
        assert app.screen.profile.open_task_count == 2
        await pilot.press("c")
        await settle(pilot)
        call = app.screen
        assert isinstance(call, QuickCallScreen)
        assert call.chosen_task is None  # nothing due today: for no task, unless chosen
        await pilot.press("t")  # the soonest: the follow-up call
        assert call.chosen_task.title == "Follow up"
        await pilot.press("1", "enter", "enter")
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen)
        assert {t.title for t in app.screen.profile.open_tasks} == {
            "Site visit for the quote",
            "Follow up",  # the next one the call scheduled (connected: follow up in two days)
        }
        assert app.screen.timeline.count == 2  # the call is on the timeline
    with Session(engine) as s:
        visit = s.exec(select(Task).where(Task.title == "Site visit for the quote")).scalars().one()
        followups = s.exec(select(Task).where(Task.title == "Follow up")).scalars().all()
    assert (visit.kind, visit.all_day, visit.assignee_id) == ("site_visit", False, desk.rep.id)
    assert sorted(f.done_at is None for f in followups) == [False, True]
