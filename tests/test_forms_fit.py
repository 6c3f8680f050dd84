"""Forms, pickers and dialogs as a user meets them (issue 16): each opens with its first field
taking the keys, the duplicate check's esc goes back to the form as typed, pickers take j/k
and type-ahead (a filter box still takes every letter), `M` on Alerts asks first, and every
dialog sits centred over the screen behind (dimmed, not blanked), whole at 80x24 and 120x40:
its box on screen, its keys line not cut."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from factories import FIXED_NOW, Desk, app_context, stages_of
from pilot_helpers import settle, wait_until
from sqlalchemy import Engine, text, update
from sqlmodel import Session
from textual.coordinate import Coordinate
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Input, OptionList, Static

from salesengine_tui.app import SalesEngineApp
from salesengine_tui.base.clock import FixedClock
from salesengine_tui.db.models import Customer, Estimate, Notification
from salesengine_tui.screens.confirm import ConfirmDialog
from salesengine_tui.screens.contact_form import ContactForm
from salesengine_tui.screens.customer_picker import CustomerPicker
from salesengine_tui.screens.new_lead import NewLeadForm
from salesengine_tui.screens.picker import Picker
from salesengine_tui.screens.pipeline_settings import PipelineSettingsScreen, StageForm
from salesengine_tui.screens.stage_picker import StagePicker

Steps = Callable[[Pilot[None]], object]
LONG_NAME = "Bartholomew Featherstonehaugh-Smythe"
HANKS_EMAIL = "hank@example.com"  # a new lead typed with it is possibly Hank


def seed_dialog_data(engine: Engine, desk: Desk) -> None:
    """On the seeded desk: the New lane's values are the system's estimates (Won then asks to
    confirm one) and the manager has three unread alerts, one about a customer with a name
    longer than the Alerts column."""
    with Session(engine) as s:
        new_lane = [desk.customers["Hank Hill"].id, desk.customers["Peggy Hill"].id]
        s.exec(
            update(Estimate)
            .where(Estimate.customer_id.in_(new_lane))  # type: ignore[attr-defined]
            .values(amount_estimated=True)
        )  # type: ignore[call-overload]
        s.get(Customer, desk.customers["Dale Gribble"].id).name = LONG_NAME  # type: ignore[union-attr]
        s.get(Customer, desk.customers["Hank Hill"].id).email = HANKS_EMAIL  # type: ignore[union-attr]
        for i, who in enumerate(("Hank Hill", "Peggy Hill", "Dale Gribble")):
            s.add(Notification(
                user_id=desk.manager.id, kind="upsell", title=f"Tech John flagged a furnace {i}",
                customer_id=desk.customers[who].id, created_at=FIXED_NOW - timedelta(hours=i),
            ))  # fmt: skip
        s.commit()


def keys(*steps: str | Steps) -> Steps:
    """Keys pressed one by one (or a step of its own), the app's work done after each."""

    async def run(pilot: Pilot[None]) -> None:
        await settle(pilot)
        for step in steps:
            if isinstance(step, str):
                await pilot.press(step)
            else:
                await step(pilot)
            await settle(pilot)

    return run


def typed(value: str) -> Steps:
    async def run(pilot: Pilot[None]) -> None:
        await pilot.press(*value)

    return run


async def matches_listed(pilot: Pilot[None]) -> None:
    """A customer picker lists the matches of everything typed in its box."""
    picker = pilot.app.screen.query_one(CustomerPicker)
    await wait_until(
        pilot, lambda: picker.shown_for == picker.search.value, what="the matches of the text"
    )


# Each dialog, reached from the app's start by keys (the snapshots use the same).
STATES: dict[str, Steps] = {
    "new_lead": keys("2", "n", typed("Kahn Souphanousinphone")),
    "duplicate_check": keys(
        "2", "n", typed("Hank Again"), "tab", "tab", typed(HANKS_EMAIL), "ctrl+s"
    ),
    "edit_contact": keys("2", "enter", "e"),
    "stage_picker": keys("m"),
    "stage_form": keys("E", "enter"),
    "condition_fields": keys("3", "a", typed("last")),
    "value_prompt": keys("m", typed("won"), "enter"),
    "task_form": keys("2", "enter", "t"),
    "interaction_form": keys("2", "enter", "i"),
    "confirm_mark_all_read": keys("5", "M"),
    "customer_picker": keys("6", "n", typed("hill"), matches_listed),
}


@pytest.fixture
def app(engine: Engine, clock: FixedClock, desk: Desk) -> SalesEngineApp:
    seed_dialog_data(engine, desk)
    return SalesEngineApp(app_context(engine, clock, desk.manager))


def drawn(widget: Widget) -> str:
    """What a widget shows, its lines joined without their padding."""
    return " ".join(widget.render_line(y).text.strip() for y in range(widget.size.height)).strip()


# --- 1. the first field takes the keys from the start ----------------------------------------


async def test_new_lead_takes_what_is_typed_at_once(app: SalesEngineApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("n", *"Kahn", "tab", *"555-0199")
        assert isinstance(app.screen, NewLeadForm)
        assert app.screen.query_one("#lead-name", Input).value == "Kahn"
        assert app.screen.query_one("#lead-phone", Input).value == "555-0199"


async def test_edit_contact_takes_what_is_typed_at_once(app: SalesEngineApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("e", "end", "space", "J", "r")  # the name is selected: end, then add
        assert isinstance(app.screen, ContactForm)
        assert app.screen.query_one("#contact-name", Input).value == "Hank Hill Jr"


FIRST_FIELD = {
    # dialog: keys from the start, the widget that must have the cursor
    "new lead": (keys("2", "n"), "#lead-name"),
    "edit contact": (keys("2", "enter", "e"), "#contact-name"),
    "interaction": (keys("2", "enter", "i"), "#interaction-kind"),
    "task for a customer": (keys("2", "enter", "t"), "#task-title"),
    "task, customer to pick": (keys("6", "n"), "#cp-search"),
    "new deal": (keys("n"), "#cp-search"),
    "edit deal": (keys("e"), "#deal-title"),
    "stage picker": (keys("m"), "#stage-options"),
    "owner picker": (keys("A"), "#picker-options"),
    "value prompt": (keys("m", typed("won"), "enter"), "#value-input"),
    "lost reason": (keys("m", "end", "enter"), "#reason-options"),
    "condition": (keys("3", "a"), "#condition-field"),
    "stage form": (keys("E", "enter"), "#stage-name"),
    "text prompt": (keys("E", "a"), "#prompt-input"),
}


@pytest.mark.parametrize("dialog", list(FIRST_FIELD))
async def test_every_dialog_opens_on_its_first_field(app: SalesEngineApp, dialog: str) -> None:
    steps, first = FIRST_FIELD[dialog]
    async with app.run_test(size=(120, 40)) as pilot:
        await steps(pilot)
        assert app.focused is app.screen.query_one(first), f"{dialog}: {app.focused} has the keys"


# --- 2. esc on the duplicate check: back to the form, as typed ----------------------------------


async def test_esc_on_the_duplicate_check_goes_back_to_the_form_as_typed(
    engine: Engine, app: SalesEngineApp
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await STATES["duplicate_check"](pilot)
        form = app.screen_stack[-2]
        assert isinstance(form, NewLeadForm)
        assert isinstance(app.screen, Picker)
        assert "esc: back to the form" in drawn(app.screen.query_one(".modal-hint"))
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is form
        assert form.query_one("#lead-name", Input).value == "Hank Again"
        assert form.query_one("#lead-email", Input).value == HANKS_EMAIL
        await pilot.press("tab", *"Referral")  # the form goes on taking keys
        assert form.query_one("#lead-lead_source", Input).value == "Referral"
    with engine.connect() as conn:
        saved = conn.execute(text("SELECT count(*) FROM customers WHERE name = 'Hank Again'"))
        assert saved.scalar_one() == 0


# --- 3. pipeline settings: the stage form centred and whole; the table takes j/k -------------


async def test_the_stage_form_is_centred_and_whole_and_the_table_takes_j_k(
    app: SalesEngineApp,
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("E")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PipelineSettingsScreen)
        await pilot.press("j", "j", "k")
        assert screen.current is not None and screen.current.name == "Site Visit Scheduled"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, StageForm)
        assert_centred_and_whole(app)
        assert "ctrl+s save" in drawn(app.screen.query_one(".modal-hint"))


# --- 4. pickers: j/k, type-ahead; a filter box keeps its letters -------------------------------


async def test_m_j_enter_moves_to_the_stage_below_the_highlight(
    engine: Engine, app: SalesEngineApp
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        card = app.screen.current_card
        await pilot.press("m")
        await settle(pilot)
        assert isinstance(app.screen, StagePicker)
        options = app.screen.query_one("#stage-options", OptionList)
        start = options.highlighted
        assert start == 1  # the highlight starts on the stage after the card's (New)
        await pilot.press("j", "enter")
        await settle(pilot)
    with Session(engine) as s:
        stage = s.get(Estimate, card.id).stage_id  # type: ignore[union-attr]
        assert stage == stages_of(s, "Residential Replacements")["Proposal Sent"].id


async def test_type_ahead_reaches_a_field_at_once(app: SalesEngineApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await keys("3", "a")(pilot)
        fields = app.screen.query_one("#condition-field", OptionList)
        await pilot.press(*"last")
        assert fields.get_option_at_index(fields.highlighted or 0).id == "last_service"
        await pilot.press(*"_i")  # more letters: the first that starts with them all
        assert fields.get_option_at_index(fields.highlighted or 0).id == "last_interaction"
        await pilot.pause(1.1)  # a pause: typing starts over
        await pilot.press(*"age")  # none starts with it: the first that contains it
        assert fields.get_option_at_index(fields.highlighted or 0).id == "equipment.age"
        await pilot.pause(1.1)
        await pilot.press("j")  # j/k move
        assert fields.get_option_at_index(fields.highlighted or 0).id == "all_equipment.age"


async def test_a_filter_box_keeps_j_and_k_and_its_list_takes_them(app: SalesEngineApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await keys("6", "n")(pilot)
        picker = app.screen.query_one(CustomerPicker)
        await pilot.press(*"jk")
        assert picker.search.value == "jk"  # typed into the box, not taken by a list
        await pilot.press("ctrl+u", *"hill")
        await matches_listed(pilot)
        assert picker.results.option_count == 2  # Hank and Peggy
        await pilot.press("down")
        assert app.focused is picker.results and picker.results.highlighted == 0
        await pilot.press("j")
        assert picker.results.highlighted == 1
        await pilot.press("k")
        assert picker.results.highlighted == 0


# --- 5. Alerts: M asks first, saying how many; the customer cut with "…" ----------------------


def unread(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT count(*) FROM notifications WHERE read_at IS NULL")
        ).scalar_one()


async def test_mark_all_read_asks_first_and_long_customers_end_with_an_ellipsis(
    engine: Engine, app: SalesEngineApp
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("5")
        await settle(pilot)
        table = app.screen.query_one("#alerts")
        customers = [str(table.get_cell_at(Coordinate(row, 3))) for row in range(table.row_count)]
        assert "Bartholomew Featherstonehaugh-Smythe" not in customers
        assert customers[2].startswith("Bartholomew") and customers[2].endswith("…")
        assert len(customers[2]) == 18
        await pilot.press("M")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        assert "Mark 3 alerts read?" in drawn(app.screen.query_one(".modal-title"))
        await pilot.press("n")  # no: nothing marked
        await settle(pilot)
        assert unread(engine) == 3
        await pilot.press("M", "y")
        await settle(pilot)
        assert unread(engine) == 0
        await pilot.press("M")  # nothing left to mark: no question
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmDialog)


# --- 6 and 7. every dialog: centred, the screen behind dimmed, whole at both sizes -------------


def assert_centred_and_whole(app: SalesEngineApp) -> None:
    screen = app.screen
    name = type(screen).__name__
    assert screen.styles.background.a < 1, f"{name} blanks the screen behind it"
    box = screen.query_one(".modal-box")
    region, whole = box.region, screen.region
    assert whole.contains_region(region), f"{name}: its box {region} is off the screen"
    left, right = region.x, whole.right - region.right
    assert abs(left - right) <= 1, f"{name} is not centred ({left} left, {right} right)"
    inside = box.content_region
    for widget in box.query("Static, Label, Input, OptionList, ChoiceLine, Select"):
        if widget.display and widget.region.area:  # what is drawn is drawn inside the box
            assert inside.contains_region(widget.region), f"{name}: {widget} is cut"
    hint = box.query_one(".modal-hint", Static)
    shown = drawn(hint)
    assert hint.region.height and shown.split() == str(hint.render()).split(), (
        f"{name}: its keys line shows {shown!r}"
    )


# Checked at both sizes by tests/test_snapshots_fit_forms.py, in the same run as each picture
# (one app run for both: the suite's time).
