"""Deals opened and edited in the real app through Pilot, each checked in the database: `n` on
the board (a customer picked by typing, or a new lead typed in), `e` on a card and on the deal
screen (the lock too), `d` opening the deal screen, `d` and `N` on a customer's profile,
convert asking the value, and titles that look like markup shown as typed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from deals_edit_data import add_equipment, seed_upsell_story
from factories import FIXED_NOW, Desk, add_user, app_context, stages_of
from pilot_helpers import settle, wait_until
from sqlalchemy import Engine, select, update
from sqlmodel import Session
from textual.widgets import Input, Static

from salesengine_tui.access.users import Actor
from salesengine_tui.app import SalesEngineApp
from salesengine_tui.base.clock import FixedClock
from salesengine_tui.db.engine import session_scope
from salesengine_tui.db.models import (
    Customer,
    CustomerStatus,
    DealStage,
    Estimate,
    EstimateChange,
    Task,
    UserRole,
)
from salesengine_tui.deals import editing
from salesengine_tui.screens.customer import CustomerScreen
from salesengine_tui.screens.customer_picker import CustomerPicker
from salesengine_tui.screens.deal import DealScreen
from salesengine_tui.screens.deal_form import DealForm
from salesengine_tui.screens.picker import Picker
from salesengine_tui.widgets.board_column import BoardColumn
from salesengine_tui.widgets.timeline_list import TimelineList

SIZE = (120, 40)
HOSTILE = "[@click=app.quit]Boom[/] [b]x"
CLEAR = ("end", "ctrl+u")  # empty the focused box


def lane(app: SalesEngineApp) -> BoardColumn:
    focused = app.screen.focused
    assert isinstance(focused, BoardColumn)
    return focused


def toasts(app: SalesEngineApp) -> str:
    return "".join(str(t.render()) for t in app.screen.query("Toast"))


def shown(app: SalesEngineApp, selector: str) -> str:
    """What a widget draws now, as text."""
    widget = app.screen.query_one(selector, Static)
    return "\n".join(widget.render_line(y).text.rstrip() for y in range(widget.size.height))


def deals_of(engine: Engine, customer_id) -> list[Estimate]:
    with Session(engine) as s:
        return list(
            s.exec(
                select(Estimate)
                .where(Estimate.customer_id == customer_id)
                .order_by(Estimate.number)
            ).scalars()
        )


async def pick_customer(pilot, text: str, *, down: int = 0) -> None:
    """Type in the deal form's customer box until matches show, then choose one."""
    await pilot.press(*text)
    picker = pilot.app.screen.query_one(CustomerPicker)
    await wait_until(pilot, lambda: picker.shown_for == text, what="the matches of the whole text")
    await pilot.press("down", *["down"] * down, "enter")


async def test_n_on_the_board_opens_a_deal_in_that_lane_and_follows_it(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    dale = desk.customers["Dale Gribble"].id
    had = len(deals_of(engine, dale))
    app = SalesEngineApp(app_context(engine, clock, desk.manager))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("l")  # Site Visit Scheduled
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, DealForm)
        assert app.screen.focused is app.screen.query_one("#cp-search")  # the first field
        await pick_customer(pilot, "dale")
        assert app.screen.focused is app.screen.query_one("#deal-title")
        await pilot.press(*"Heat pump", "enter", *"4,200", "enter", *"+30", "enter")
        await pilot.press("tab", "tab", *"Call about financing", "enter", *"tomorrow 10am")
        await pilot.press("enter")  # the last field saves
        await settle(pilot)
        assert not isinstance(app.screen, DealForm)
        opened = deals_of(engine, dale)[-1]
        assert len(deals_of(engine, dale)) == had + 1
        with Session(engine) as s:
            stage = s.get(DealStage, opened.stage_id)
            task = s.exec(select(Task).where(Task.estimate_id == opened.id)).scalars().one()
        assert (stage.name, opened.title, opened.amount, opened.owner_id) == (
            "Site Visit Scheduled",
            "Heat pump",
            Decimal("4200.00"),
            desk.manager.id,
        )
        assert opened.expected_close_on == date(2026, 12, 24)
        assert (task.title, task.kind, task.assignee_id) == (
            "Call about financing",
            "call",
            desk.manager.id,
        )
        # the board shows it, the cursor on it
        assert lane(app).column.name == "Site Visit Scheduled"
        assert lane(app).current.id == opened.id
        assert "Opened #" in toasts(app) and "Heat pump for Dale Gribble ($4,200)" in toasts(app)


async def test_a_form_that_does_not_check_out_says_which_field(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    before = len(deals_of(engine, desk.customers["Dale Gribble"].id))
    app = SalesEngineApp(app_context(engine, clock, desk.manager))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("ctrl+s")  # nobody chosen yet
        assert "Customer: type a name" in shown(app, "#deal-error")
        await pick_customer(pilot, "dale")
        await pilot.press(*"Heat pump", "enter", *"-5", "ctrl+s")
        assert "value cannot be negative" in shown(app, "#deal-error")
        assert app.screen.focused is app.screen.query_one("#deal-value")
        await pilot.press(*CLEAR, *"1.005", "ctrl+s")
        assert "at most two decimals" in shown(app, "#deal-error")
        await pilot.press(*CLEAR, *"100", "enter", *"2026-11-01", "ctrl+s")
        assert "in the past" in shown(app, "#deal-error")
        assert app.screen.focused is app.screen.query_one("#deal-close")
        await pilot.press("escape")
        await settle(pilot)
    assert len(deals_of(engine, desk.customers["Dale Gribble"].id)) == before


async def test_a_new_lead_typed_in_the_form_and_a_known_one_offered(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    app = SalesEngineApp(app_context(engine, clock, desk.rep))  # a rep opens deals for themselves
    hank = desk.customers["Hank Hill"].id
    hank_had = len(deals_of(engine, hank))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        # a new lead with Hank's phone: Hank is offered, and taken
        await pilot.press("n")
        await settle(pilot)
        await pick_customer(pilot, "Hankie Jr")  # no match: "New lead" is the only choice
        assert app.screen.focused is app.screen.query_one("#cp-phone")
        await pilot.press(*"214 555 0101", "enter", "enter")  # email left blank
        await pilot.press(*"Water heater", "enter", *"1800", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, Picker)
        await pilot.press("enter")  # "Use Hank Hill"
        await settle(pilot)
        assert not isinstance(app.screen, (Picker, DealForm))
        assert len(deals_of(engine, hank)) == hank_had + 1
        assert deals_of(engine, hank)[-1].owner_id == desk.rep.id
        # a new lead nobody knows: saved with the deal
        await pilot.press("n")
        await settle(pilot)
        await pick_customer(pilot, "Rusty Shackleford")
        await pilot.press(*"214 555 0199", "enter", *"rusty@example.com", "enter")
        await pilot.press(*"Mini split", "enter", *"3,100", "ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, DealForm)
    with Session(engine) as s:
        rusty = s.exec(select(Customer).where(Customer.name == "Rusty Shackleford")).scalars().one()
    assert (rusty.status, rusty.phone, rusty.email, rusty.owner_id) == (
        CustomerStatus.lead,
        "+12145550199",
        "rusty@example.com",
        desk.rep.id,
    )
    assert [(d.title, d.amount) for d in deals_of(engine, rusty.id)] == [
        ("Mini split", Decimal("3100.00"))
    ]


async def test_e_on_a_card_edits_it_and_the_board_shows_the_change(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    app = SalesEngineApp(app_context(engine, clock, desk.manager))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        card = lane(app).current  # Peggy Hill, $12,000
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, DealForm)
        assert app.screen.query_one("#deal-value", Input).value == "12,000.00"
        await pilot.press("enter", *"9,876", "enter", *"eom", "ctrl+s")  # value replaced
        await settle(pilot)
        assert not isinstance(app.screen, DealForm)
        assert lane(app).current.id == card.id and lane(app).current.amount == Decimal("9876")
        column = lane(app)
        text = "\n".join(column.render_line(y).text for y in range(column.size.height))
        assert "$9,876" in text
        assert "Value $12,000 → $9,876" in toasts(app)
        await pilot.press("enter")  # the customer's timeline has the change on it
        await settle(pilot)
        timeline = app.screen.query_one(TimelineList)
        top = "\n".join(timeline.render_line(y).text for y in range(6))
        assert f"✎ Value $12,000 → $9,876 · #{card.number} AC replacement" in top
        assert "Expected close none → 2026-11-30" in top
    with Session(engine) as s:
        e = s.get(Estimate, card.id)
        changes = s.exec(
            select(EstimateChange.field, EstimateChange.old_value, EstimateChange.new_value)
            .where(EstimateChange.estimate_id == card.id)
            .order_by(EstimateChange.field)
        ).all()
    assert (e.amount, e.expected_close_on, e.version) == (
        Decimal("9876.00"),
        date(2026, 11, 30),
        card.version + 1,
    )
    assert [tuple(c) for c in changes] == [
        ("expected_close", None, "2026-11-30"),
        ("value", "$12,000", "$9,876"),
    ]


async def test_an_edit_someone_else_beat_keeps_what_was_typed(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    app = SalesEngineApp(app_context(engine, clock, desk.manager))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        card = lane(app).current
        await pilot.press("e")
        await settle(pilot)
        with session_scope(engine) as s:  # Mia, in another terminal, saves first
            mia = Actor.of(add_user(s, "mia", name="Mia Park", role=UserRole.manager))
            editing.edit_deal(s, mia, card.id, expected_version=card.version, now=FIXED_NOW,
                              title="Mia's title")  # fmt: skip
        await pilot.press(*CLEAR, *"My title", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DealForm)  # still open, as typed
        assert app.screen.query_one("#deal-title", Input).value == "My title"
        assert "Mia Park changed this estimate first" in toasts(app)
        await pilot.press("escape")
        await settle(pilot)
    with Session(engine) as s:
        assert s.get(Estimate, card.id).title == "Mia's title"


async def test_d_opens_the_deal_screen_and_e_enter_esc_work_there(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    with Session(engine, expire_on_commit=False) as s:
        luanne = s.get(Customer, desk.customers["Luanne Platter"].id)
        deal = seed_upsell_story(s, desk.manager, desk.rep, luanne,
                                 stages_of(s, "Residential Replacements"))  # fmt: skip
        s.commit()
    app = SalesEngineApp(app_context(engine, clock, desk.manager))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("l", "d")  # the upsell: the oldest card of Site Visit Scheduled
        await settle(pilot)
        assert isinstance(app.screen, DealScreen)
        facts = shown(app, "#deal-facts")
        assert "Luanne Platter" in facts and "$2,400" in facts and "10 days" in facts
        assert "2026-12-18" in facts and "Sam Ortiz" in facts
        history = shown(app, "#deal-history")
        assert history.index("Value $1,850 (estimate) → $2,400") < history.index("New → Site")
        assert "Owner unassigned → Sam Ortiz" in history
        source = shown(app, "#deal-source")
        assert "No heat, heat exchanger cracked" in source and "17 years old" in source
        assert source.startswith("Upsell from")
        assert "Measure the return duct" in shown(app, "#deal-tasks")
        assert "Sent the financing options" in shown(app, "#deal-interactions")
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, DealForm)
        await pilot.press("enter", "enter", *CLEAR, "ctrl+s")  # clear the date
        await settle(pilot)
        assert isinstance(app.screen, DealScreen)
        assert "not set" in shown(app, "#deal-facts")
        assert "Expected close 2026-12-18 → none" in shown(app, "#deal-history")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen)
        assert app.screen.profile.name == "Luanne Platter"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DealScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(lane(app), BoardColumn)
    with Session(engine) as s:
        assert s.get(Estimate, deal.id).expected_close_on is None


async def test_the_profile_lists_deals_and_n_opens_one(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    bill = desk.customers["Bill Dauterive"].id
    app = SalesEngineApp(app_context(engine, clock, desk.manager))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("l", "l", "enter")  # Proposal Sent: Bill Dauterive
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen)
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, Picker)  # Bill has two deals: open ones first
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DealScreen) and "Proposal Sent" in shown(app, "#deal-facts")
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("N")
        await settle(pilot)
        assert isinstance(app.screen, DealForm)
        assert app.screen.focused is app.screen.query_one("#deal-title")
        await pilot.press(*"Second system", "enter", *"6500", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen)
        assert "Second system for Bill Dauterive ($6,500)" in toasts(app)
    newest = deals_of(engine, bill)[-1]
    assert (newest.title, newest.amount, newest.owner_id) == (
        "Second system",
        Decimal("6500.00"),
        desk.manager.id,
    )


async def test_convert_asks_the_value_instead_of_writing_zero(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    hank = desk.customers["Hank Hill"].id
    had = len(deals_of(engine, hank))
    app = SalesEngineApp(app_context(engine, clock, desk.manager))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("v", "down", "enter")  # convert and open a deal (first pipeline)
        await settle(pilot)
        assert isinstance(app.screen, DealForm)
        await pilot.press("escape")  # changed their mind: nothing happens
        await settle(pilot)
        with Session(engine) as s:
            assert s.get(Customer, hank).status == CustomerStatus.lead
        await pilot.press("v", "down", "enter")
        await settle(pilot)
        title = app.screen.query_one("#deal-title", Input)
        assert title.value == "Replacement estimate" and title.has_focus
        await pilot.press("ctrl+s")  # no value yet: asked for
        assert "value is required" in shown(app, "#deal-error")
        await pilot.press(*"7,450", "enter", *"2026-12-31", "ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, DealForm)
        assert "opened a deal: Replacement estimate ($7,450)" in toasts(app)
    with Session(engine) as s:
        assert s.get(Customer, hank).status == CustomerStatus.active
    opened = deals_of(engine, hank)
    assert len(opened) == had + 1
    assert (opened[-1].amount, opened[-1].expected_close_on, opened[-1].owner_id) == (
        Decimal("7450.00"),
        date(2026, 12, 31),
        desk.manager.id,
    )


async def test_titles_and_names_that_look_like_markup_are_shown_as_typed(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    with session_scope(engine) as s:
        s.get(Customer, desk.customers["Dale Gribble"].id).name = "[red]Dale[/red] \x1b[2J"
    app = SalesEngineApp(app_context(engine, clock, desk.manager))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pick_customer(pilot, "dale")
        await pilot.press(*HOSTILE, "enter", *"10", "ctrl+s")
        await settle(pilot)
        assert app.is_running and not isinstance(app.screen, DealForm)
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, DealScreen)
        facts = shown(app, "#deal-facts")
        assert HOSTILE in facts and "[red]Dale[/red] ␛[2J" in facts
    with Session(engine) as s:
        titles = s.exec(select(Estimate.title).where(Estimate.title == HOSTILE)).scalars().all()
    assert titles == [HOSTILE]


async def test_a_technician_opens_no_deal(engine: Engine, clock: FixedClock, desk: Desk) -> None:
    with session_scope(engine) as s:
        tech = add_user(s, "tina", name="Tina Tech", role=UserRole.technician)
    app = SalesEngineApp(app_context(engine, clock, tech))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await pilot.press("e")
        await settle(pilot)
        assert not isinstance(app.screen, DealForm)
        assert "Only reps and managers may create and edit deals" in toasts(app)


async def test_a_deal_for_equipment_without_a_ticket_is_not_called_an_upsell(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    with Session(engine) as s:
        peggy = s.get(Customer, desk.customers["Peggy Hill"].id)
        unit = add_equipment(s, peggy, "Heat pump")
        s.execute(
            update(Estimate).where(Estimate.customer_id == peggy.id).values(equipment_id=unit.id)
        )
        s.commit()
    app = SalesEngineApp(app_context(engine, clock, desk.manager))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("d")  # Peggy Hill: the first card of New
        await settle(pilot)
        assert isinstance(app.screen, DealScreen)
        source = shown(app, "#deal-source")
        assert source.startswith("For the equipment") and "Heat pump" in source
