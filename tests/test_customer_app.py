"""The customer profile through Pilot: opened from the inbox, contact edits with validation and
an optimistic lock, logging an interaction; and the timeline over thousands of entries."""

from __future__ import annotations

from datetime import timedelta

from factories import FIXED_NOW, Desk, add_interaction, app_context
from pilot_helpers import settle
from sqlalchemy import Engine, select, text
from sqlmodel import Session
from test_leads_app import customer

from salesengine_tui.activity import feed as activity
from salesengine_tui.app import SalesEngineApp
from salesengine_tui.base.clock import FixedClock
from salesengine_tui.db.models import CustomerInteraction
from salesengine_tui.screens.contact_form import ContactForm
from salesengine_tui.screens.customer import CustomerScreen
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
        shown = str(app.screen.query_one("#entry-body Static").render())
        assert shown.startswith("First line [bold]\nword word") and shown.count("word") == 2000
        await pilot.press("escape", "escape")
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        app.screen.query_one("#activity").focus()
        await pilot.press("enter")  # the newest activity: Hank's long call
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen) and app.screen.profile.name == "Hank Hill"


async def test_o_toggles_email_opt_out(engine: Engine, clock: FixedClock, desk: Desk) -> None:
    app = SalesEngineApp(app_context(engine, clock, desk.manager))
    async with app.run_test(size=SIZE) as pilot:
        await open_hank(app, pilot)
        await pilot.press("o")
        await settle(pilot)
        assert customer(engine, "Hank Hill").email_opt_out is True
        assert app.screen.profile.email_opt_out is True
        await pilot.press("o")
        await settle(pilot)
    assert customer(engine, "Hank Hill").email_opt_out is False
