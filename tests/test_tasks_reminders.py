"""Reminders: a timed task that falls due gives its assignee exactly one notification (and a
toast in an open app); all-day, future, done and unassigned tasks give none; two runners at
once never notify twice; `salesengine-jobs once tasks` and the runner's schedule run it."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from factories import FIXED_NOW, Desk, add_task, app_context, days_before
from pilot_helpers import wait_listening, wait_until
from salesengine_jobs.cli import main as jobs
from sqlalchemy import Engine
from sqlalchemy.engine import URL
from sqlmodel import Session
from test_cli import _url

from salesengine_tui.access.users import Actor
from salesengine_tui.app import SalesEngineApp
from salesengine_tui.automation import task_reminders
from salesengine_tui.base.clock import FixedClock
from salesengine_tui.db.engine import session_scope
from salesengine_tui.db.models import Customer, Estimate, Notification, Task, TaskKind
from salesengine_tui.tasks import editing
from salesengine_tui.usecases import Desk as AppDesk

TZ = ZoneInfo("America/Chicago")
MIDNIGHT = datetime(2026, 11, 24, tzinfo=TZ)  # the start of FIXED_NOW's day in Chicago


def remind(engine: Engine, now: datetime = FIXED_NOW) -> task_reminders.Report:
    with session_scope(engine) as s:
        return task_reminders.remind(s, now=now, tz=TZ)


def sent(engine: Engine) -> list[tuple]:
    with Session(engine) as s:
        return [
            tuple(r)
            for r in s.execute(
                sa.select(
                    Notification.user_id,
                    Notification.kind,
                    Notification.title,
                    Notification.body,
                    Notification.customer_id,
                    Notification.estimate_id,
                ).order_by(Notification.title)
            )
        ]


@pytest.fixture
def week(engine: Engine, desk: Desk) -> dict[str, Task]:
    """One task of each kind of case around FIXED_NOW (09:00 in Chicago)."""
    with session_scope(engine) as s:
        c = {name: s.get(Customer, x.id) for name, x in desk.customers.items()}
        sam, dana = s.merge(desk.rep), s.merge(desk.manager)
        peggys = s.execute(
            sa.select(Estimate).where(Estimate.customer_id == c["Peggy Hill"].id)
        ).scalar_one()
        made = {
            "due": add_task(s, c["Peggy Hill"], "Call about the quote", assignee=sam,
                            due_at=FIXED_NOW - timedelta(minutes=5), estimate=peggys),
            "stale": add_task(s, c["Luanne Platter"], "Send forms", kind=TaskKind.todo,
                              assignee=dana, due_at=days_before(2)),
            "future": add_task(s, c["Bill Dauterive"], "Later today", assignee=dana,
                               due_at=FIXED_NOW + timedelta(hours=1)),
            "all_day": add_task(s, c["Bill Dauterive"], "Today, any time", assignee=dana,
                                due_at=MIDNIGHT, all_day=True),
            "done": add_task(s, c["Dale Gribble"], "Done already", assignee=sam,
                             due_at=days_before(1), done_at=days_before(1), done_by=sam),
            "nobody": add_task(s, c["Dale Gribble"], "Nobody's", due_at=days_before(1)),
        }  # fmt: skip
    return made


def test_one_notification_per_timed_task_that_fell_due(
    engine: Engine, desk: Desk, week: dict[str, Task]
) -> None:
    assert remind(engine) == task_reminders.Report(reminded=3, notifications=2)
    peggy, luanne = desk.customers["Peggy Hill"].id, desk.customers["Luanne Platter"].id
    assert sent(engine) == [
        (desk.rep.id, "task_due", "Call due now: Peggy Hill",
         "Call about the quote (due 2026-11-24 08:55)", peggy, week["due"].estimate_id),
        (desk.manager.id, "task_due", "To-do overdue: Luanne Platter",
         "Send forms (due 2026-11-22 09:00)", luanne, None),
    ]  # fmt: skip
    with Session(engine) as s:
        marked = {
            name: (s.get(Task, t.id).reminded_at, s.get(Task, t.id).version)
            for name, t in week.items()
        }
        keys = set(s.execute(sa.select(Notification.dedupe_key)).scalars())
    assert marked == {
        "due": (FIXED_NOW, 1),  # marked, its version untouched: nobody's copy goes stale
        "stale": (FIXED_NOW, 1),
        "nobody": (FIXED_NOW, 1),  # nobody to tell, and not again
        "future": (None, 1),
        "all_day": (None, 1),
        "done": (None, 1),
    }
    assert f"task-due:{week['due'].id}@{int(week['due'].due_at.timestamp())}" in keys
    # again, and again later: nothing new until the future one falls due
    assert remind(engine) == task_reminders.Report(0, 0)
    assert remind(engine, FIXED_NOW + timedelta(minutes=59)) == task_reminders.Report(0, 0)
    assert remind(engine, FIXED_NOW + timedelta(hours=1)) == task_reminders.Report(1, 1)
    # the all-day task never: not at midnight, not at the end of the day
    assert remind(engine, MIDNIGHT + timedelta(hours=23, minutes=59)) == task_reminders.Report(0, 0)
    assert len(sent(engine)) == 3


def test_a_rescheduled_task_reminds_again_at_its_new_time(
    engine: Engine, desk: Desk, week: dict[str, Task]
) -> None:
    remind(engine)
    sam = Actor.of(desk.rep)
    with session_scope(engine) as s:
        editing.reschedule_task(
            s, sam, week["due"].id, expected_version=1, now=FIXED_NOW,
            due_at=FIXED_NOW + timedelta(hours=2), all_day=False,
        )  # fmt: skip
    assert remind(engine, FIXED_NOW + timedelta(hours=1)).notifications == 1  # the "future" one
    assert remind(engine, FIXED_NOW + timedelta(hours=2)).notifications == 1
    titles = [row[2] for row in sent(engine)]
    assert titles.count("Call due now: Peggy Hill") == 2


def test_a_second_runner_skips_what_the_first_holds(
    engine: Engine, desk: Desk, week: dict[str, Task]
) -> None:
    with session_scope(engine) as first:
        assert task_reminders.remind(first, now=FIXED_NOW, tz=TZ).notifications == 2
        # the first has not committed: the second neither waits nor takes the same tasks
        with session_scope(engine) as second:
            second.execute(sa.text("SET LOCAL lock_timeout = '2s'"))
            assert task_reminders.remind(second, now=FIXED_NOW, tz=TZ) == (
                task_reminders.Report(0, 0)
            )
    assert remind(engine) == task_reminders.Report(0, 0)  # after the commit: all marked
    assert len(sent(engine)) == 2


def test_many_runners_at_once_notify_each_task_once(engine: Engine, desk: Desk) -> None:
    with session_scope(engine) as s:
        peggy, sam = s.get(Customer, desk.customers["Peggy Hill"].id), s.merge(desk.rep)
        for i in range(300):
            add_task(s, peggy, f"Call {i}", assignee=sam, due_at=days_before(0, FIXED_NOW)
                     - timedelta(minutes=i))  # fmt: skip
    start = threading.Barrier(4)
    reports: list[task_reminders.Report] = []

    def runner() -> None:
        start.wait()
        for _ in range(3):
            reports.append(remind(engine))

    threads = [threading.Thread(target=runner) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.notifications for r in reports) == 300
    assert sum(r.reminded for r in reports) == 300
    with Session(engine) as s:
        per_task = s.execute(
            sa.text(
                "SELECT count(*), count(DISTINCT dedupe_key) FROM notifications "
                "WHERE kind = 'task_due'"
            )
        ).one()
    assert tuple(per_task) == (300, 300)


def test_the_desk_runs_it_as_a_recorded_job(
    engine: Engine, desk: Desk, week: dict[str, Task]
) -> None:
    system = AppDesk(app_context(engine, FixedClock(FIXED_NOW), desk.manager))
    result = system.tasks.remind_due()
    assert (result.job, result.status, result.counts) == (
        "tasks",
        "ok",
        {"reminded": 3, "notifications": 2},
    )
    with Session(engine) as s:
        runs = s.execute(sa.text("SELECT job, status FROM job_runs")).all()
    assert [tuple(r) for r in runs] == [("tasks", "ok")]


def test_once_tasks_from_the_command_line(
    engine: Engine, db_url: URL, desk: Desk, capsys: pytest.CaptureFixture[str]
) -> None:
    now = datetime.now(UTC)  # the command runs on the real clock
    with session_scope(engine) as s:
        add_task(s, s.get(Customer, desk.customers["Peggy Hill"].id), "Call now",
                 assignee=s.merge(desk.rep), due_at=now - timedelta(minutes=1))  # fmt: skip
    assert jobs(["--database-url", _url(db_url), "once", "tasks"]) == 0
    # and Hank's seeded follow-up, due two days after FIXED_NOW: also past on the real clock
    assert "tasks: ok: 2 tasks fell due, 2 notifications" in capsys.readouterr().out
    assert jobs(["--database-url", _url(db_url), "once", "tasks"]) == 0
    assert "tasks: ok: 0 tasks fell due, 0 notifications" in capsys.readouterr().out


def test_the_runner_schedules_it_every_minute(engine: Engine) -> None:
    from salesengine_jobs.runner import Runner

    from salesengine_tui.base.settings import load_settings

    runner = Runner(engine, load_settings(), listen=False)
    runner.schedule_jobs()
    every = {job.job_func.args[0]: job.interval for job in runner.scheduler.jobs}
    assert every["tasks"] == 60


async def test_a_task_falling_due_toasts_in_the_open_app(
    engine: Engine, clock: FixedClock, desk: Desk, week: dict[str, Task]
) -> None:
    ctx = app_context(engine, clock, desk.rep)
    ctx.settings = ctx.settings.model_copy(update={"live_updates": True})
    app = SalesEngineApp(ctx)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await wait_listening(pilot, app.alerts_listening, "alerts")
        report = await asyncio.to_thread(remind, engine)  # the jobs runner's run
        assert report.notifications == 2  # Sam's and Dana's
        toasts = lambda: [n.message for n in app._notifications]  # noqa: E731
        await wait_until(pilot, lambda: "Call due now: Peggy Hill" in toasts(), seconds=5)
        assert not any("Luanne" in t for t in toasts())  # Dana's is not Sam's
