"""My tasks (Sales > Tasks, key 6) through Pilot against the database: the buckets against a
fixed clock, every key (x, u, enter, c, n, e, o), hostile text shown literally, and the list
loading again when a task-due notification arrives."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from factories import FIXED_NOW, Desk, add_task, app_context, fixed_id
from pilot_helpers import settle, wait_listening, wait_until
from sqlalchemy import Engine, select
from sqlmodel import Session

from salesengine_tui.app import SalesEngineApp
from salesengine_tui.automation import task_reminders
from salesengine_tui.base.clock import FixedClock
from salesengine_tui.db.models import (
    Customer,
    CustomerInteraction,
    CustomerStatus,
    Estimate,
    Task,
    TaskKind,
)
from salesengine_tui.screens.customer import CustomerScreen
from salesengine_tui.screens.customer_picker import CustomerPicker
from salesengine_tui.screens.quick_call import QuickCallScreen
from salesengine_tui.screens.task_form import TaskForm
from salesengine_tui.screens.tasks import TasksScreen
from salesengine_tui.tasks.model import Bucket
from salesengine_tui.tasks.pages import bucket_of
from salesengine_tui.tasks.queries import bucket_sql, open_tasks
from salesengine_tui.usecases import Desk as AppDesk
from salesengine_tui.widgets.task_list import GroupLine, TaskLine, TaskList

SIZE = (120, 40)
TZ = ZoneInfo("America/Chicago")  # tests/test-config.toml; FIXED_NOW is 09:00 there, a Tuesday
HOSTILE_NAME = "[@click=app.quit]Acme [bold]Corp\x1b[31m"
HOSTILE_TITLE = "[red]Pay[/red] now \u202eevil"


def local(day: int, hour: int = 0, minute: int = 0) -> datetime:
    """November `day`, 2026, at that wall time where the business is."""
    return datetime(2026, 11, day, hour, minute, tzinfo=TZ)


def seed_tasks(engine: Engine, desk: Desk) -> None:
    """Around the seeded desk (Hank Hill's "Follow up" call, Sam's, Thu 26 at 09:00):

    Sam's overdue: Peggy, an all-day email due Sun 22; Dale, a call at 08:00 today (before
    now, 09:00) for deal #3. Sam's today: Luanne, an all-day to-do; Bill, a site visit at
    14:30. Sam's upcoming: Hank's follow-up (Thu), the hostile customer's meeting (Mon 30).
    Unassigned: Dale, a call today. Dana's: Bill, a to-do today."""
    with Session(engine) as s:
        c = {name: s.merge(customer) for name, customer in desk.customers.items()}
        sam, dana = s.merge(desk.rep), s.merge(desk.manager)
        acme = Customer(
            name=HOSTILE_NAME,
            status=CustomerStatus.active,
            phone="555-0199",
            owner_id=sam.id,
            created_at=FIXED_NOW,
            updated_at=FIXED_NOW,
            id=fixed_id(99, 2),
        )
        s.add(acme)
        s.flush()
        deal3 = s.execute(select(Estimate).where(Estimate.number == 3)).scalars().one()
        add_task(s, c["Peggy Hill"], "Send the financing forms", due_at=local(22), all_day=True,
                 kind=TaskKind.email, assignee=sam, n=11)  # fmt: skip
        add_task(s, c["Dale Gribble"], "Call about the estimate", due_at=local(24, 8),
                 kind=TaskKind.call, assignee=sam, estimate=deal3, n=12)  # fmt: skip
        add_task(s, c["Luanne Platter"], "Confirm the install date", due_at=local(24),
                 all_day=True, kind=TaskKind.todo, assignee=sam, n=13)  # fmt: skip
        add_task(s, c["Bill Dauterive"], "Measure the attic", due_at=local(24, 14, 30),
                 kind=TaskKind.site_visit, assignee=sam, n=14)  # fmt: skip
        add_task(s, acme, HOSTILE_TITLE, due_at=local(30, 10), kind=TaskKind.meeting,
                 assignee=sam, n=15)  # fmt: skip
        add_task(s, c["Dale Gribble"], "Unclaimed callback", due_at=local(24, 16),
                 kind=TaskKind.call, assignee=None, created_by=dana, n=16)  # fmt: skip
        add_task(s, c["Bill Dauterive"], "Review the Q4 pipeline", due_at=local(24),
                 all_day=True, kind=TaskKind.todo, assignee=dana, n=17)  # fmt: skip
        s.commit()


def tasks_list(app: SalesEngineApp) -> TaskList:
    return app.screen.query_one(TaskList)


def lines(app: SalesEngineApp) -> list[str]:
    """Every line of the list as drawn (headers, then tasks), loaded or not."""
    found = tasks_list(app)
    return [
        (f"## {line.bucket} {line.count}" if isinstance(line, GroupLine) else line.task.title)
        for line in (found.item(i) for i in range(found.count))
        if line is not None
    ]


def drawn(app: SalesEngineApp) -> str:
    found = tasks_list(app)
    return "\n".join(found.render_line(y).text for y in range(found.size.height))


def task(engine: Engine, title: str) -> Task:
    with Session(engine) as s:
        return s.execute(select(Task).where(Task.title == title)).scalars().one()


async def go_to_tasks(app: SalesEngineApp, pilot) -> TaskList:
    await pilot.press("6")
    await settle(pilot)
    assert isinstance(app.screen, TasksScreen)
    return tasks_list(app)


async def test_buckets_against_the_business_day(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    seed_tasks(engine, desk)
    app = SalesEngineApp(app_context(engine, clock, desk.rep))
    async with app.run_test(size=SIZE) as pilot:
        found = await go_to_tasks(app, pilot)
        assert app.screen.counts == {Bucket.overdue: 2, Bucket.today: 2, Bucket.upcoming: 2}
        assert lines(app) == [
            "## overdue 2",
            "Send the financing forms",  # all-day, two days ago
            "Call about the estimate",  # 08:00 today: before now
            "## today 2",
            "Confirm the install date",  # all-day today
            "Measure the attic",  # 14:30 today
            "## upcoming 2",
            "Follow up",
            HOSTILE_TITLE,
        ]
        assert found.cursor == 1  # on the first task, not its header
        text = drawn(app)
        assert "Overdue  2 tasks" in text and "Today  2 tasks" in text
        assert "2d overdue" in text and "today 08:00" in text and "today 14:30" in text
        assert "#3" in text  # Dale's call is for deal #3
        title = str(app.screen.query_one("#section-title").render())
        assert "2 overdue" in title and "2 today" in title and "2 upcoming" in title
        await pilot.press("up")  # already first: stays, never on a header
        assert found.cursor == 1
        await pilot.press("down", "down")  # past the Today header
        assert found.current_task.title == "Confirm the install date"
        await pilot.press("G")
        assert found.current_task.title == HOSTILE_TITLE


async def test_hostile_titles_and_names_show_literally(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    seed_tasks(engine, desk)
    app = SalesEngineApp(app_context(engine, clock, desk.rep))
    async with app.run_test(size=SIZE) as pilot:
        await go_to_tasks(app, pilot)
        await pilot.press("G")
        text = drawn(app)
        assert "[red]Pay[/red] now \\u202eevil" in text
        assert "[@click=app.quit]…" in text  # the start of the name, its column full
        await pilot.click(TaskList, offset=(60, found_row(app, HOSTILE_TITLE)))
        assert app.is_running
        await pilot.press("c")  # Quick Call shows the whole name
        await settle(pilot)
        assert isinstance(app.screen, QuickCallScreen)
        who = str(app.screen.query_one("#call-who").render())
        assert "[@click=app.quit]Acme [bold]Corp␛[31m" in who
        tasks = app.screen.query_one("#call-tasks")
        assert "[red]Pay[/red] now \\u202eevil" in str(tasks.get_option_at_index(0).prompt)
        await pilot.press("escape")
        await settle(pilot)
        assert app.is_running and isinstance(app.screen, TasksScreen)


def found_row(app: SalesEngineApp, title: str) -> int:
    found = tasks_list(app)
    for i in range(found.count):
        line = found.item(i)
        if isinstance(line, TaskLine) and line.task.title == title:
            return i - round(found.scroll_offset.y)
    raise AssertionError(title)


async def test_x_marks_the_task_done_and_names_it(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    seed_tasks(engine, desk)
    app = SalesEngineApp(app_context(engine, clock, desk.rep))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        found = await go_to_tasks(app, pilot)
        assert found.current_task.title == "Send the financing forms"
        await pilot.press("x")
        await settle(pilot)
        toasts = [n.message for n in app._notifications]
        assert any("Done: email: Send the financing forms · Peggy Hill" in t for t in toasts)
        assert app.screen.counts[Bucket.overdue] == 1
        assert found.current_task.title == "Call about the estimate"  # the next one
    done = task(engine, "Send the financing forms")
    assert (done.done_at, done.done_by) == (FIXED_NOW, desk.rep.id)


def undo_shown(app: SalesEngineApp) -> bool:
    """`u` in the footer: True lit, False dimmed (nothing to undo)."""
    return app.screen.active_bindings["u"].enabled


async def test_u_reopens_the_task_last_marked_done(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    seed_tasks(engine, desk)
    app = SalesEngineApp(app_context(engine, clock, desk.rep))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        found = await go_to_tasks(app, pilot)
        screen = app.screen
        assert not undo_shown(app)  # nothing marked done here yet: dimmed, and does nothing
        await pilot.press("u")
        await settle(pilot)
        assert screen.counts[Bucket.overdue] == 2 and not app._notifications
        await pilot.press("x")
        await settle(pilot)
        assert screen.counts[Bucket.overdue] == 1 and undo_shown(app)
        assert any("(u: undo)" in n.message for n in app._notifications)
        await pilot.press("u")
        await settle(pilot)
        toasts = [n.message for n in app._notifications]
        assert any("Reopened: email: Send the financing forms · Peggy Hill" in t for t in toasts)
        assert screen.counts[Bucket.overdue] == 2 and not undo_shown(app)  # one undo
        assert found.current_task.title == "Send the financing forms"  # back where it was
    reopened = task(engine, "Send the financing forms")
    assert (reopened.done_at, reopened.done_by, reopened.version) == (None, None, 3)


async def test_u_after_someone_else_reopened_it_says_who(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    seed_tasks(engine, desk)
    app = SalesEngineApp(app_context(engine, clock, desk.rep))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await go_to_tasks(app, pilot)
        await pilot.press("x")
        await settle(pilot)
        dana = AppDesk(app_context(engine, clock, desk.manager))  # the manager, meanwhile
        done = dana.tasks.get(task(engine, "Send the financing forms").id)
        dana.tasks.complete(dana.tasks.reopen(done))  # reopened and done again: by Dana
        await pilot.press("u")
        await settle(pilot)
        toasts = [n.message for n in app._notifications]
        assert any("Not reopened: Dana Reyes completed this task" in t for t in toasts)
        assert not undo_shown(app)
    kept = task(engine, "Send the financing forms")
    assert (kept.done_by, kept.version) == (desk.manager.id, 4)  # nothing overwritten


async def test_enter_opens_the_customer(engine: Engine, clock: FixedClock, desk: Desk) -> None:
    seed_tasks(engine, desk)
    app = SalesEngineApp(app_context(engine, clock, desk.rep))
    async with app.run_test(size=SIZE) as pilot:
        await go_to_tasks(app, pilot)
        await pilot.press("down", "enter")  # Dale's call
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen)
        assert app.screen.profile.name == "Dale Gribble"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, TasksScreen)


async def test_c_calls_for_the_task_completes_it_and_schedules_the_next(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    seed_tasks(engine, desk)
    app = SalesEngineApp(app_context(engine, clock, desk.rep))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        found = await go_to_tasks(app, pilot)
        await pilot.press("down")
        assert found.current_task.title == "Call about the estimate"
        await pilot.press("c")
        await settle(pilot)
        call = app.screen
        assert isinstance(call, QuickCallScreen)
        assert call.chosen_task is not None and call.chosen_task.title == "Call about the estimate"
        # Dale has another open task (unassigned): it stays, and the dialog says so
        assert call.query_one("#call-tasks").border_subtitle == "1 other stays open"
        await pilot.press("2", *"left a message", "enter", "enter")  # voicemail; call back +2
        await settle(pilot)
        assert isinstance(app.screen, TasksScreen)
        toasts = [n.message for n in app._notifications]
        assert any('completed "Call about the estimate"' in t for t in toasts), toasts
        assert any("1 other task still open" in t for t in toasts), toasts
    with Session(engine) as s:
        dale = s.execute(select(Customer).where(Customer.name == "Dale Gribble")).scalars().one()
        tasks = s.execute(select(Task).where(Task.customer_id == dale.id)).scalars().all()
        calls = (
            s.execute(select(CustomerInteraction).where(CustomerInteraction.customer_id == dale.id))
            .scalars()
            .all()
        )
    by_title = {t.title: t for t in tasks}
    assert by_title["Call about the estimate"].done_at == FIXED_NOW
    assert by_title["Unclaimed callback"].done_at is None  # left as it was
    nxt = by_title["Call back"]
    assert (nxt.kind, nxt.all_day, nxt.assignee_id) == ("call", True, desk.rep.id)
    assert nxt.due_at == local(26)
    assert [(c.outcome, c.notes) for c in calls] == [("voicemail", "left a message")]


async def test_n_adds_a_task_for_a_customer_found_by_typing(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    app = SalesEngineApp(app_context(engine, clock, desk.rep))
    async with app.run_test(size=SIZE) as pilot:
        found = await go_to_tasks(app, pilot)
        before = found.task_count
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, TaskForm)
        picker = form.query_one(CustomerPicker)  # the deal form's picker: one behaviour
        assert form.focused is picker.search
        await pilot.press("ctrl+s")  # nothing picked yet
        await pilot.pause()
        assert "Customer:" in str(form.query_one("#task-error").render())
        await pilot.press(*"luanne")
        await wait_until(pilot, lambda: picker.shown_for == "luanne", what="the matches")
        assert picker.results.option_count == 1  # a task is for a known customer: no "new lead"
        await pilot.press("enter")  # the only match
        assert form.customer is not None and form.customer[1] == "Luanne Platter"
        assert form.focused.id == "task-title"
        await pilot.press(*"Send the warranty", "enter", *"fri 2pm")
        assert "Fri 2026-11-27 14:00" in str(form.query_one("#task-due-help").render())
        await pilot.press("tab")  # kind
        await pilot.press("e")  # email
        await pilot.press("enter")  # saves
        await settle(pilot)
        assert isinstance(app.screen, TasksScreen)
        assert found.task_count == before + 1
    added = task(engine, "Send the warranty")
    assert (added.kind, added.all_day, added.assignee_id) == ("email", False, desk.rep.id)
    assert added.due_at == local(27, 14)


async def test_e_reschedules_and_a_bad_due_keeps_the_form(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    seed_tasks(engine, desk)
    app = SalesEngineApp(app_context(engine, clock, desk.rep))
    async with app.run_test(size=SIZE) as pilot:
        found = await go_to_tasks(app, pilot)
        assert found.current_task.title == "Send the financing forms"  # all-day, overdue
        await pilot.press("e")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, TaskForm)
        assert form.query_one("#task-due").value == "2026-11-22"
        assert form.focused.id == "task-title"
        await pilot.press("enter", *"last tuesday", "enter")
        await pilot.pause()
        assert app.screen is form
        assert "Due:" in str(form.query_one("#task-error").render())
        form.query_one("#task-due").value = "tomorrow 10:15"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, TasksScreen)
        assert app.screen.counts[Bucket.overdue] == 1
    moved = task(engine, "Send the financing forms")
    assert (moved.due_at, moved.all_day, moved.version) == (local(25, 10, 15), False, 2)


async def test_e_changes_only_the_title_of_an_overdue_task(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    seed_tasks(engine, desk)
    app = SalesEngineApp(app_context(engine, clock, desk.rep))
    async with app.run_test(size=SIZE) as pilot:
        await go_to_tasks(app, pilot)
        await pilot.press("e")
        await pilot.pause()
        app.screen.query_one("#task-title").value = "Send the forms again"
        await pilot.press("ctrl+s")
        await settle(pilot)
    kept = task(engine, "Send the forms again")
    assert (kept.due_at, kept.all_day) == (local(22), True)  # its day kept, though past


async def test_o_whose_tasks_for_a_manager_and_a_rep(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    seed_tasks(engine, desk)
    app = SalesEngineApp(app_context(engine, clock, desk.manager))
    async with app.run_test(size=SIZE) as pilot:
        found = await go_to_tasks(app, pilot)
        assert found.task_count == 1  # Dana's own
        assert not found.show_assignee
        await pilot.press("o")
        await settle(pilot)
        assert found.task_count == 8  # everyone's
        assert found.show_assignee
        assert "unassigned" in drawn(app) and "Sam Ortiz" in drawn(app)
        assert "everyone's" in str(app.screen.query_one("#section-title").render())
        await pilot.press("o")
        await settle(pilot)
        assert [ln for ln in lines(app) if not ln.startswith("##")] == ["Unclaimed callback"]
        await pilot.press("o")
        await settle(pilot)
        assert found.task_count == 1
    rep_app = SalesEngineApp(app_context(engine, clock, desk.rep))
    async with rep_app.run_test(size=SIZE) as pilot:
        found = await go_to_tasks(rep_app, pilot)
        assert found.task_count == 6
        await pilot.press("o")  # a rep: the unassigned ones, to take
        await settle(pilot)
        assert found.task_count == 1
        await pilot.press("x")  # a rep may complete an unassigned task
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        assert found.task_count == 6
    assert task(engine, "Unclaimed callback").done_by == desk.rep.id


async def test_six_opens_my_tasks_from_every_section(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    app = SalesEngineApp(app_context(engine, clock, desk.rep))
    async with app.run_test(size=(80, 24)) as pilot:
        for section in ("1", "2", "3", "4", "5"):
            await pilot.press(section)
            await settle(pilot)
            await pilot.press("6")
            await settle(pilot)
            assert isinstance(app.screen, TasksScreen), section
        assert tasks_list(app).current_task.title == "Follow up"  # Hank's, seeded


async def test_a_task_due_notification_reloads_the_list(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    with Session(engine) as s:
        sam = s.merge(desk.rep)
        add_task(s, s.merge(desk.customers["Peggy Hill"]), "Ring Peggy",
                 due_at=FIXED_NOW + timedelta(minutes=5), assignee=sam)  # fmt: skip
        s.commit()
    ctx = app_context(engine, clock, desk.rep)
    ctx.settings = ctx.settings.model_copy(update={"live_updates": True})
    app = SalesEngineApp(ctx)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("6")
        await wait_until(pilot, lambda: tasks_list(app).task_count == 2)
        await wait_listening(pilot, app.alerts_listening, "alerts")
        # Meanwhile another task of Sam's was added elsewhere (no notice of its own) ...
        with Session(engine) as s:
            add_task(s, s.merge(desk.customers["Bill Dauterive"]), "Quote for Bill",
                     due_at=FIXED_NOW + timedelta(days=3), assignee=s.merge(desk.rep))  # fmt: skip
            s.commit()
        # ... and the runner tells Sam that "Ring Peggy" fell due: the list loads again.
        later = FIXED_NOW + timedelta(minutes=6)

        def remind() -> int:
            with Session(engine) as s:
                report = task_reminders.remind(s, now=later, tz=TZ)
                s.commit()
                return report

        await asyncio.to_thread(remind)
        await wait_until(pilot, lambda: tasks_list(app).task_count == 3, seconds=5)
        toasts = [n.message for n in app._notifications]
        assert any("Peggy Hill" in t for t in toasts), toasts


async def test_thousands_of_tasks_are_read_a_block_at_a_time(
    engine: Engine, clock: FixedClock, desk: Desk
) -> None:
    """5,000 upcoming tasks: the list holds a few blocks, not all of them; the end is one
    jump away and the blocks after a loaded one continue from it."""
    hank = desk.customers["Hank Hill"]
    with Session(engine) as s:
        s.execute(
            Task.__table__.insert(),
            [
                {
                    "customer_id": hank.id,
                    "kind": TaskKind.call,
                    "title": f"Call {i:04d}",
                    "due_at": FIXED_NOW + timedelta(days=2, minutes=i + 1),
                    "all_day": False,
                    "assignee_id": desk.rep.id,
                    "created_at": FIXED_NOW,
                    "updated_at": FIXED_NOW,
                }
                for i in range(5000)
            ],
        )
        s.commit()
    app = SalesEngineApp(app_context(engine, clock, desk.rep))
    async with app.run_test(size=SIZE) as pilot:
        found = await go_to_tasks(app, pilot)
        assert found.task_count == 5001 and found.count == 5002  # and one header
        assert len(found.loaded) <= 200
        found.move_to(150)  # the second block, read on from the first one's last task
        await settle(pilot)
        assert [found.item(i).task.title for i in (1, 2, 99, 100, 150)] == [
            "Follow up",  # Hank's seeded one, due first
            "Call 0000",
            "Call 0097",
            "Call 0098",
            "Call 0148",
        ]
        await pilot.press("G")
        await settle(pilot)
        assert found.current_task.title == "Call 4999"
        await pilot.press("pageup")
        await settle(pilot)
        assert found.current_task.title.startswith("Call 49")
        assert len(found.loaded) <= 400


def test_bucket_of_agrees_with_the_sql_rule(engine: Engine, desk: Desk) -> None:
    """Profiles and Quick Call colour a task with `bucket_of`, the list groups with
    `bucket_sql`: the same rule, at every edge of the business day."""
    now = FIXED_NOW  # 09:00 in Chicago
    edges = [
        (local(23), True),  # all-day yesterday: overdue
        (local(24), True),  # all-day today: today (though its 00:00 has passed)
        (local(25), True),  # all-day tomorrow: upcoming
        (now - timedelta(minutes=1), False),  # timed, just passed: overdue
        (now, False),  # timed, now: today
        (local(24, 23, 59), False),  # timed, the day's last minute: today
        (local(25, 0, 0), False),  # timed, midnight: upcoming
    ]
    with Session(engine) as s:
        hank = s.merge(desk.customers["Hank Hill"])
        for i, (due_at, all_day) in enumerate(edges):
            add_task(s, hank, f"edge {i}", due_at=due_at, all_day=all_day)
        s.commit()
        sql = dict(s.execute(select(Task.title, bucket_sql(now, TZ))).all())
        rows = open_tasks(s, customer_id=hank.id, limit=100)
    python = {row.title: bucket_of(row, now, TZ) for row in rows}
    assert python == sql
    assert [python[f"edge {i}"] for i in range(len(edges))] == [
        "overdue",
        "today",
        "upcoming",
        "overdue",
        "today",
        "today",
        "upcoming",
    ]
