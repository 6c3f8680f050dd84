"""The leads inbox in the real app through Pilot: quick call, cancel, convert, assign,
marks, filters and search, each checked in the database."""

from __future__ import annotations

from factories import FIXED_NOW, Desk, app_context
from pilot_helpers import settle
from sqlalchemy import Engine, select
from sqlmodel import Session

from salesengine_tui.app import SalesEngineApp
from salesengine_tui.base.clock import FixedClock
from salesengine_tui.db.models import (
    Customer,
    CustomerInteraction,
    CustomerStatus,
    Estimate,
)
from salesengine_tui.screens.quick_call import QuickCallScreen
from salesengine_tui.widgets.leads_table import LeadsTable

SIZE = (120, 40)


def table(app: SalesEngineApp) -> LeadsTable:
    return app.screen.query_one(LeadsTable)


def interactions(engine: Engine) -> list[CustomerInteraction]:
    with Session(engine) as s:
        return list(
            s.exec(select(CustomerInteraction).order_by(CustomerInteraction.created_at)).scalars()
        )


def customer(engine: Engine, name: str) -> Customer:
    with Session(engine) as s:
        return s.exec(select(Customer).where(Customer.name == name)).scalars().one()


async def test_quick_call_logs_one_call_and_moves_on(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    before = len(interactions(engine))
    app = SalesEngineApp(app_context(engine, clock, desk.manager))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await settle(pilot)
        assert table(app).current.name == "Hank Hill"
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, QuickCallScreen)
        await pilot.press("2")  # voicemail
        await pilot.press(*"Left msg [bold]x[/] \\x1b", "enter")
        await pilot.press(*"+3", "enter")
        await settle(pilot)
        assert not isinstance(app.screen, QuickCallScreen)
        # one lead handled, the next one ready
        assert table(app).cursor == 0 and table(app).current.name == "Dale Gribble"
    rows = interactions(engine)
    assert len(rows) == before + 1
    call = rows[-1]
    assert (call.type, call.direction, call.outcome) == ("call", "outbound", "voicemail")
    assert call.notes == "Left msg [bold]x[/] \\x1b"
    assert call.created_by == desk.manager.id and call.created_at == FIXED_NOW
    hank = customer(engine, "Hank Hill")
    assert hank.last_interaction_at == FIXED_NOW
    assert hank.next_step_at is not None and (hank.next_step_at - FIXED_NOW).days in (2, 3)


async def test_escape_cancels_the_call_and_writes_nothing(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    before = len(interactions(engine))
    app = SalesEngineApp(app_context(engine, clock, desk.manager))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("c", "1", *"half typed", "escape")
        await settle(pilot)
        assert not isinstance(app.screen, QuickCallScreen)
        assert table(app).current.name == "Hank Hill"
    assert len(interactions(engine)) == before
    assert customer(engine, "Hank Hill").last_interaction_at is None


async def test_call_with_a_bad_date_says_so_and_keeps_the_dialog(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    app = SalesEngineApp(app_context(engine, clock, desk.manager))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("c", "1", "enter", *"next tuesday", "enter")
        await pilot.pause()
        assert isinstance(app.screen, QuickCallScreen)
        toast = "".join(str(t.render()) for t in app.screen.query("Toast"))
        assert "'next tuesday' is not a date" in toast
        await pilot.press("escape")
    assert customer(engine, "Hank Hill").last_interaction_at is None


async def test_convert_one_lead_with_an_estimate(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    hank_id = customer(engine, "Hank Hill").id
    with Session(engine) as s:
        had = len(s.exec(select(Estimate).where(Estimate.customer_id == hank_id)).scalars().all())
    app = SalesEngineApp(app_context(engine, clock, desk.manager))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("v", "down", "enter")  # convert and open an estimate (first pipeline)
        await settle(pilot)
        assert "2 leads" in str(app.screen.query_one("#section-title").render())
    hank = customer(engine, "Hank Hill")
    assert hank.status == CustomerStatus.active
    with Session(engine) as s:
        opened = (
            s.exec(
                select(Estimate).where(Estimate.customer_id == hank.id).order_by(Estimate.number)
            )
            .scalars()
            .all()
        )
    assert len(opened) == had + 1
    assert opened[-1].owner_id == desk.manager.id and opened[-1].title == "Replacement estimate"


async def test_mark_two_and_assign_then_convert_together(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    app = SalesEngineApp(app_context(engine, clock, desk.manager))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("space", "space")  # Hank and Dale marked, cursor on Peggy
        assert len(table(app).marked) == 2
        await pilot.press("a")
        await pilot.pause()
        # people by name: Dana Reyes, Sam Ortiz
        await pilot.press("down", "enter")
        await settle(pilot)
        assert not table(app).marked
        assert customer(engine, "Dale Gribble").owner_id == desk.rep.id
        assert customer(engine, "Peggy Hill").owner_id == desk.rep.id  # unchanged: Sam already
        await pilot.press("g", "space", "space", "v", "enter")
        await settle(pilot)
    statuses = {n: customer(engine, n).status for n in ("Hank Hill", "Dale Gribble", "Peggy Hill")}
    assert statuses == {
        "Hank Hill": CustomerStatus.active,
        "Dale Gribble": CustomerStatus.active,
        "Peggy Hill": CustomerStatus.lead,
    }


async def test_search_filter_and_only_mine(engine: Engine, clock: FixedClock, desk: Desk) -> None:
    app = SalesEngineApp(app_context(engine, clock, desk.rep))  # Sam owns Hank and Peggy
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await settle(pilot)
        assert table(app).count == 3
        await pilot.press("o")
        await settle(pilot)
        assert table(app).count == 2
        await pilot.press("escape", "slash", *"555 0103")  # phone digits, any punctuation
        await pilot.press("enter")  # runs the search now (it also runs once typing pauses)
        await settle(pilot)
        assert table(app).count == 1
        assert table(app).current.name == "Dale Gribble"
        await pilot.press("escape", "f")
        await pilot.pause()
        await pilot.press("enter")  # "Not contacted yet"
        await settle(pilot)
        assert {table(app).loaded[i].name for i in range(table(app).count)} == {
            "Hank Hill",
            "Dale Gribble",
        }


async def test_new_lead_with_validation_and_duplicate_warning(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    app = SalesEngineApp(app_context(engine, clock, desk.rep))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        await pilot.press("ctrl+s")  # empty name
        await pilot.pause()
        assert "Name: name is required" in str(form.query_one("#contact-error").render())
        form.query_one("#lead-name").value = "Kahn Souphanousinphone"
        form.query_one("#lead-phone").value = "555-0101"  # Hank's number
        await pilot.press("ctrl+s")
        await settle(pilot)
        # a duplicate: offered to open Hank, or to save anyway
        options = app.screen.query_one("#picker-options")
        assert "Hank Hill" in str(options.get_option_at_index(0).prompt)
        await pilot.press("down", "enter")  # save anyway
        await settle(pilot)
        assert table(app).count == 4
        await pilot.press("n")
        await pilot.pause()
        app.screen.query_one("#lead-name").value = "Minh Souphanousinphone"
        app.screen.query_one("#lead-email").value = "minh@example.com"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert table(app).count == 5
    minh = customer(engine, "Minh Souphanousinphone")
    assert (minh.status, minh.owner_id) == (CustomerStatus.lead, desk.rep.id)


async def test_a_rep_takes_an_unassigned_lead(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    from salesengine_tui.screens.picker import Picker

    app = SalesEngineApp(app_context(engine, clock, desk.rep))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("down")  # Dale Gribble, unassigned
        assert table(app).current.name == "Dale Gribble"
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, Picker)
        assert [str(label) for label, _ in app.screen.choices] == ["Sam Ortiz (me)"]
        await pilot.press("enter")
        await settle(pilot)
    assert customer(engine, "Dale Gribble").owner_id == desk.rep.id
