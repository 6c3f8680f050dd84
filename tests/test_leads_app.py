"""The leads inbox in the real app through Pilot: quick call (with the customer's open tasks
and last interactions, completing its task, scheduling the next), cancel, convert, assign,
marks, filters and search, each checked in the database."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from factories import FIXED_NOW, Desk, add_interaction, add_task, app_context, days_before
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
    Task,
    TaskKind,
)
from salesengine_tui.screens.quick_call import QuickCallScreen
from salesengine_tui.screens.task_form import TaskForm
from salesengine_tui.widgets.leads_table import LeadsTable

SIZE = (120, 40)
TZ = ZoneInfo("America/Chicago")  # tests/test-config.toml: FIXED_NOW is 09:00 there


def open_tasks_of(engine: Engine, name: str) -> dict[str, Task]:
    with Session(engine) as s:
        rows = s.exec(
            select(Task)
            .join(Customer, Customer.id == Task.customer_id)
            .where(Customer.name == name, Task.done_at.is_(None))
        ).scalars()
        return {t.title: t for t in rows}


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
        call = app.screen
        await settle(pilot)
        # Hank's follow-up is due in two days: the call is not for it unless the rep says so
        assert call.chosen_task is None
        assert call.query_one("#call-tasks").border_subtitle == "1 open task stays open"
        await pilot.press("2")  # voicemail
        await pilot.press(*"Left msg [bold]x[/] \\x1b", "enter")
        assert call.query_one("#call-next-title").value == "Call back"  # from the outcome
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
    # the follow-up stays; the call back is added: all day, three days on, the caller's
    tasks = open_tasks_of(engine, "Hank Hill")
    assert sorted(tasks) == ["Call back", "Follow up"]
    back = tasks["Call back"]
    assert (back.kind, back.all_day, back.assignee_id) == ("call", True, desk.manager.id)
    assert back.due_at == datetime(2026, 11, 27, tzinfo=TZ)


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
    assert sorted(open_tasks_of(engine, "Hank Hill")) == ["Follow up"]


async def test_call_with_a_bad_date_says_so_and_keeps_the_dialog(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    app = SalesEngineApp(app_context(engine, clock, desk.manager))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("c", "1", "enter", *"someday", "enter")
        await pilot.pause()
        assert isinstance(app.screen, QuickCallScreen)
        toast = "".join(str(t.render()) for t in app.screen.query("Toast"))
        assert "'someday' is not a due date" in toast
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
        await pilot.press("v", "down", "enter")  # convert and open a deal (first pipeline)
        await settle(pilot)
        # the title is offered; the value is asked for (the deal form's tests cover the rest)
        await pilot.press("enter", *"8400", "ctrl+s")
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
        labels = [label.plain for label, _ in app.screen.choices]
        at = next(i for i, label in enumerate(labels) if label.endswith("Not contacted yet"))
        await pilot.press(*["down"] * at, "enter")
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
        form.query_one("#lead-phone").value = "214-555-0101"  # Hank's number, typed another way
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


def seed_peggy(engine: Engine, desk: Desk) -> None:
    """Peggy Hill (Sam's lead, a voicemail yesterday): three more interactions, the oldest
    not shown; a call due at 08:00 today (overdue) and a to-do next week."""
    with Session(engine) as s:
        peggy, sam = s.merge(desk.customers["Peggy Hill"]), s.merge(desk.rep)
        add_interaction(s, peggy, sam, at=days_before(9), notes="The oldest: not shown")
        add_interaction(s, peggy, sam, at=days_before(5), outcome="connected",
                        notes="Asked for [bold]financing[/]\nsecond line not shown")  # fmt: skip
        add_interaction(s, peggy, sam, at=days_before(3), type="email", notes="Sent the brochure")
        add_task(s, peggy, "Call about the quote", due_at=datetime(2026, 11, 24, 8, tzinfo=TZ),
                 kind=TaskKind.call, assignee=sam)  # fmt: skip
        add_task(s, peggy, "Mail the warranty", due_at=datetime(2026, 12, 1, tzinfo=TZ),
                 all_day=True, kind=TaskKind.todo, assignee=sam)  # fmt: skip
        s.commit()


async def call_peggy(app: SalesEngineApp, pilot) -> QuickCallScreen:
    await pilot.press("2")
    await settle(pilot)
    await pilot.press("down", "down")
    assert table(app).current.name == "Peggy Hill"
    await pilot.press("c")
    await settle(pilot)
    assert isinstance(app.screen, QuickCallScreen)
    return app.screen


async def test_quick_call_shows_open_tasks_and_history_and_completes_its_task(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    seed_peggy(engine, desk)
    app = SalesEngineApp(app_context(engine, clock, desk.rep))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        call = await call_peggy(app, pilot)
        recent = str(call.query_one("#call-recent").render()).splitlines()
        assert recent[0] == "Last contacts"
        assert len(recent) == 4  # the last three, newest first, the notes' first line
        assert "voicemail" in recent[1] and "yesterday" in recent[1]
        assert "Left a message about the quote" in recent[1]
        assert "email" in recent[2] and "Sent the brochure" in recent[2]
        assert "Asked for [bold]financing[/]" in recent[3] and "second line" not in recent[3]
        assert "oldest" not in "\n".join(recent)
        tasks = call.query_one("#call-tasks")
        prompts = [str(tasks.get_option_at_index(i).prompt) for i in range(tasks.option_count)]
        assert "Call about the quote" in prompts[0] and prompts[0].startswith("✔")
        assert "Mail the warranty" in prompts[1] and prompts[2] == "Not for a task"
        # the call due today is the one this call is for; the to-do stays open, and it says so
        assert call.chosen_task.title == "Call about the quote"
        assert tasks.border_subtitle == "1 other stays open"
        await pilot.press("1", *"she will sign", "enter", "enter")  # connected; follow up +2
        await settle(pilot)
        assert not isinstance(app.screen, QuickCallScreen)
        toasts = [n.message for n in app._notifications]
        assert any('completed "Call about the quote"' in t and "1 other task still open" in t
                   for t in toasts), toasts  # fmt: skip
    left = open_tasks_of(engine, "Peggy Hill")
    assert sorted(left) == ["Follow up", "Mail the warranty"]
    assert left["Follow up"].due_at == datetime(2026, 11, 26, tzinfo=TZ)
    with Session(engine) as s:
        done = s.exec(select(Task).where(Task.title == "Call about the quote")).scalars().one()
    assert (done.done_at, done.done_by) == (FIXED_NOW, desk.rep.id)


async def test_quick_call_not_for_a_task_and_no_next_task(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    seed_peggy(engine, desk)
    app = SalesEngineApp(app_context(engine, clock, desk.rep))
    async with app.run_test(size=SIZE) as pilot:
        call = await call_peggy(app, pilot)
        await pilot.press("t")
        assert call.chosen_task.title == "Mail the warranty"
        await pilot.press("t")  # the explicit choice
        assert call.chosen_task is None
        assert call.query_one("#call-tasks").border_subtitle == "2 open tasks stay open"
        await pilot.press("5", "enter")  # not interested: no next task offered
        assert call.query_one("#call-next").value == ""
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, QuickCallScreen)
    assert sorted(open_tasks_of(engine, "Peggy Hill")) == [
        "Call about the quote",
        "Mail the warranty",
    ]
    assert interactions(engine)[-1].outcome == "not_interested"


async def test_quick_call_next_task_details_in_the_task_form(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    app = SalesEngineApp(app_context(engine, clock, desk.rep))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        call = app.screen
        await pilot.press("1", "ctrl+n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, TaskForm)
        assert form.query_one("#task-title").value == "Follow up"
        assert form.query_one("#task-due").value == "+2"
        form.query_one("#task-title").value = "Show the [red]new[/] units"
        await pilot.press("tab", "tab", "m")  # kind: meeting
        await pilot.press("tab", "right")  # assignee: nobody
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is call  # nothing saved yet: the call saves it
        assert str(call.query_one("#call-next-label").render()) == "Next meeting"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, QuickCallScreen)
    meeting = open_tasks_of(engine, "Hank Hill")["Show the [red]new[/] units"]
    assert (meeting.kind, meeting.assignee_id, meeting.all_day) == ("meeting", None, True)


async def test_quick_call_an_emptied_due_schedules_no_next_task(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    app = SalesEngineApp(app_context(engine, clock, desk.rep))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("2", "enter", "backspace")  # voicemail; the due offered, cleared
        assert app.screen.query_one("#call-next-title").value == "Call back"
        assert app.screen.query_one("#call-next").value == ""
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, QuickCallScreen)
    assert sorted(open_tasks_of(engine, "Hank Hill")) == ["Follow up"]  # as it was
    assert interactions(engine)[-1].outcome == "voicemail"
