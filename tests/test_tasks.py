"""The tasks domain against real PostgreSQL: due dates as typed (time zones, DST), creating,
completing (once, under the lock), editing, reassigning, deleting, who may, and the lists
(a customer's, My tasks in buckets, the soonest open task as a column)."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from factories import FIXED_NOW, Desk, add_task, add_user, app_context
from sqlalchemy import Engine
from sqlmodel import Session

from salesengine_tui.access.users import Actor
from salesengine_tui.base.clock import FixedClock
from salesengine_tui.base.errors import NotFound, PermissionDenied, UserError
from salesengine_tui.db.engine import session_scope
from salesengine_tui.db.models import Customer, Task, TaskKind, UserRole
from salesengine_tui.tasks import editing, queries
from salesengine_tui.tasks.due import due_label, due_text, parse_due
from salesengine_tui.tasks.editing import TaskAlreadyDone, TaskConflict
from salesengine_tui.tasks.model import TaskDraft
from salesengine_tui.usecases import Desk as AppDesk

CHICAGO = ZoneInfo("America/Chicago")  # the test settings' business time zone
TOKYO = ZoneInfo("Asia/Tokyo")
# FIXED_NOW is 2026-11-24 15:00 UTC: Tuesday 09:00 in Chicago, Wednesday 00:00 in Tokyo.


def local(text: str, tz: ZoneInfo = CHICAGO) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=tz)


# --- parse_due ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "due", "all_day"),
    [
        ("today", "2026-11-24 00:00", True),
        ("Tomorrow", "2026-11-25 00:00", True),
        ("+3", "2026-11-27 00:00", True),
        ("+2w", "2026-12-08 00:00", True),
        ("2026-12-05", "2026-12-05 00:00", True),
        ("14:30", "2026-11-24 14:30", False),
        ("2pm", "2026-11-24 14:00", False),
        ("2 PM", "2026-11-24 14:00", False),
        ("12am", "2026-11-24 00:00", False),
        ("12pm", "2026-11-24 12:00", False),
        ("tomorrow 9:15", "2026-11-25 09:15", False),
        ("tomorrow at 4:30pm", "2026-11-25 16:30", False),
        ("2026-12-05 14:30", "2026-12-05 14:30", False),
        ("+1 noon", "2026-11-25 12:00", False),
        ("fri", "2026-11-27 00:00", True),
        ("tue 10am", "2026-12-01 10:00", False),  # today is Tuesday: the coming one
        ("  today   8am ", "2026-11-24 08:00", False),  # earlier today: still today, allowed
    ],
)
def test_parse_due_reads_what_people_type(typed: str, due: str, all_day: bool) -> None:
    got, got_all_day = parse_due(typed, FIXED_NOW, CHICAGO)
    assert (got, got_all_day) == (local(due), all_day)
    assert got.tzinfo is not None
    # what a form shows for editing reads back to the same due
    assert parse_due(due_text(got, got_all_day, CHICAGO), FIXED_NOW, CHICAGO) == (got, all_day)


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("", "when is it due"),
        ("yesterday", "is not a due date"),
        ("next week sometime", "is not a due date"),
        ("2026-11-23", "in the past"),
        ("2026-11-23 10:00", "in the past"),
        ("2026-02-30", "not a day of the calendar"),
        ("25:00", "not a time of day"),
        ("13pm", "not a time of day"),
        ("tomorrow 9:75", "not a time of day"),
        ("+99999", "ten years"),
        ("2040-01-01", "ten years"),
    ],
)
def test_parse_due_refuses_with_a_reason(typed: str, says: str) -> None:
    with pytest.raises(UserError, match=says):
        parse_due(typed, FIXED_NOW, CHICAGO)


def test_today_is_the_business_days_today() -> None:
    # 15:00 UTC is already Wednesday in Tokyo: "today" there is the 25th, the 24th is past.
    assert parse_due("today", FIXED_NOW, TOKYO) == (local("2026-11-25 00:00", TOKYO), True)
    with pytest.raises(UserError, match="in the past"):
        parse_due("2026-11-24", FIXED_NOW, TOKYO)
    # late evening in Chicago (05:30 UTC the next day) is still the 24th there
    late = datetime(2026, 11, 25, 5, 30, tzinfo=UTC)
    assert parse_due("today", late, CHICAGO) == (local("2026-11-24 00:00"), True)


def test_parse_due_across_daylight_saving_changes() -> None:
    march = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)  # Friday before the spring change (8 March)
    # the wall time stays 9:00 across the change: the UTC offset moves from -6 to -5
    before, _ = parse_due("2026-03-07 9am", march, CHICAGO)
    after, _ = parse_due("2026-03-09 9am", march, CHICAGO)
    assert before.astimezone(UTC).hour == 15 and after.astimezone(UTC).hour == 14
    # 2:30 does not exist on the 8th: it is where the clock jumps to, 3:30 CDT
    gap, timed = parse_due("2026-03-08 2:30", march, CHICAGO)
    assert not timed and gap.astimezone(UTC) == datetime(2026, 3, 8, 8, 30, tzinfo=UTC)
    assert gap.astimezone(CHICAGO).hour == 3
    # all day on the change day starts at local midnight (still CST)
    day, all_day = parse_due("+2", march, CHICAGO)
    assert all_day and day.astimezone(UTC) == datetime(2026, 3, 8, 6, 0, tzinfo=UTC)
    # 1:30 on 1 November happens twice: the first one (CDT)
    autumn = datetime(2026, 10, 30, 15, 0, tzinfo=UTC)
    twice, _ = parse_due("2026-11-01 1:30", autumn, CHICAGO)
    assert twice.astimezone(UTC) == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    # "+1" across the change is the next calendar day at midnight, 23 hours later
    sat = datetime(2026, 3, 7, 7, 0, tzinfo=UTC)  # Saturday 01:00 CST
    sunday, _ = parse_due("+1", sat, CHICAGO)
    monday, _ = parse_due("+2", sat, CHICAGO)
    assert monday.astimezone(UTC) - sunday.astimezone(UTC) == timedelta(hours=23)


def test_due_labels() -> None:
    assert due_label(local("2026-11-24 00:00"), True, FIXED_NOW, CHICAGO) == "today"
    assert due_label(local("2026-11-24 14:30"), False, FIXED_NOW, CHICAGO) == "today 14:30"
    assert due_label(local("2026-11-25 09:15"), False, FIXED_NOW, CHICAGO) == "tomorrow 09:15"
    assert due_label(local("2026-11-21 00:00"), True, FIXED_NOW, CHICAGO) == "3d overdue"
    assert due_label(local("2026-11-27 00:00"), True, FIXED_NOW, CHICAGO) == "Fri"
    assert due_label(local("2026-12-05 00:00"), True, FIXED_NOW, CHICAGO) == "Dec 5"


# --- creating and changing tasks ---------------------------------------------------------------


@pytest.fixture
def people(engine: Engine, desk: Desk) -> Desk:
    """The desk plus a second rep, Kim."""
    with session_scope(engine) as s:
        add_user(s, "kim", name="Kim Lee", n=3)
    return desk


def _actor(engine: Engine, login: str) -> Actor:
    from salesengine_tui.db.models import User

    with Session(engine) as s:
        return Actor.of(s.exec(sa.select(User).where(User.login == login)).scalar_one())


def _create(engine: Engine, actor: Actor, customer: uuid.UUID, **kw: object) -> uuid.UUID:
    args = {
        "customer_id": customer,
        "kind": TaskKind.call,
        "title": "Call about the quote",
        "due_at": local("2026-11-25 10:00"),
        "all_day": False,
        "assignee_id": actor.id,
        "now": FIXED_NOW,
        **kw,
    }
    with session_scope(engine) as s:
        return editing.create_task(s, actor, **args)


def test_create_validates_and_stores(engine: Engine, people: Desk) -> None:
    sam = _actor(engine, "sam")
    peggy = people.customers["Peggy Hill"].id
    for kw, says in [
        ({"title": "  "}, "task title is required"),
        ({"title": "x" * 201}, "too long"),
        ({"title": "call\nback"}, "line break"),
        ({"title": "call \x1b[31mback"}, "control character"),
        ({"notes": "n" * 2001}, "too long"),
        ({"notes": "ok\x07"}, "control character"),
        ({"kind": "lunch"}, "unknown task kind"),
        ({"due_at": FIXED_NOW - timedelta(days=2)}, "in the past"),
        ({"assignee_id": _actor(engine, "kim").id}, "only managers may give tasks"),
        ({"customer_id": uuid.UUID(int=7)}, "no longer exists"),
        ({"estimate_id": uuid.UUID(int=9)}, "deal no longer"),
    ]:
        with pytest.raises(UserError, match=says):
            _create(engine, sam, peggy, **kw)
    with Session(engine) as s:
        assert s.exec(sa.select(sa.func.count()).select_from(Task)).scalar_one() == 1  # Hank's

    task_id = _create(
        engine, sam, peggy, title="  Call about the quote ", notes="line one\r\nline two\tx"
    )
    unassigned = _create(engine, sam, peggy, assignee_id=None, kind="site_visit")
    with Session(engine) as s:
        row = queries.get_task(s, task_id)
        assert (row.title, row.notes, row.kind, row.assignee_name) == (
            "Call about the quote",
            "line one\nline two\tx",
            TaskKind.call,
            "Sam Ortiz",
        )
        assert (row.customer_name, row.version, row.done_at, row.all_day) == (
            "Peggy Hill",
            1,
            None,
            False,
        )
        assert queries.get_task(s, unassigned).assignee_id is None
        assert queries.get_task(s, unassigned).kind is TaskKind.site_visit


def test_a_task_for_a_deal_must_be_its_customers(engine: Engine, people: Desk) -> None:
    dana = _actor(engine, "dana")
    with Session(engine) as s:
        bills = s.execute(
            sa.text("SELECT id FROM estimates WHERE customer_id = :c LIMIT 1"),
            {"c": people.customers["Bill Dauterive"].id},
        ).scalar_one()
    with pytest.raises(UserError, match="one of its customer's deals"):
        _create(engine, dana, people.customers["Hank Hill"].id, estimate_id=bills)
    task_id = _create(engine, dana, people.customers["Bill Dauterive"].id, estimate_id=bills)
    with Session(engine) as s:
        row = queries.get_task(s, task_id)
        assert row.estimate_id == bills and row.estimate_number is not None
        assert [t.id for t in queries.open_tasks(s, estimate_id=bills)] == [task_id]


def test_complete_once_under_the_lock(engine: Engine, people: Desk) -> None:
    sam, dana = _actor(engine, "sam"), _actor(engine, "dana")
    task_id = _create(engine, sam, people.customers["Peggy Hill"].id)
    later = FIXED_NOW + timedelta(minutes=5)
    with (
        pytest.raises(TaskConflict, match="changed this task after you opened it"),
        session_scope(engine) as s,
    ):
        editing.complete_task(s, sam, task_id, expected_version=7, now=later)
    with session_scope(engine) as s:
        editing.complete_task(s, sam, task_id, expected_version=1, now=later)
    with Session(engine) as s:
        row = queries.get_task(s, task_id)
        assert (row.done_at, row.done_by_name, row.version) == (later, "Sam Ortiz", 2)
    # twice: by the same hand with the old version, or by another with the new one
    for who, version in ((sam, 1), (dana, 2)):
        with (
            pytest.raises(TaskAlreadyDone, match="Sam Ortiz already completed this task"),
            session_scope(engine) as s,
        ):
            editing.complete_task(s, who, task_id, expected_version=version, now=later)
    with Session(engine) as s:
        assert s.get(Task, task_id).done_at == later  # untouched


def test_two_people_completing_at_once_one_wins(engine: Engine, people: Desk) -> None:
    sam, dana = _actor(engine, "sam"), _actor(engine, "dana")
    task_id = _create(engine, sam, people.customers["Peggy Hill"].id)
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def finish(actor: Actor) -> None:
        start.wait()
        try:
            with session_scope(engine) as s:
                editing.complete_task(s, actor, task_id, expected_version=1, now=FIXED_NOW)
            outcomes.append("done")
        except TaskAlreadyDone:
            outcomes.append("already")

    threads = [threading.Thread(target=finish, args=(a,)) for a in (sam, dana)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["already", "done"]


def test_who_may_work_a_task(engine: Engine, people: Desk) -> None:
    sam, kim, dana = (_actor(engine, x) for x in ("sam", "kim", "dana"))
    peggy = people.customers["Peggy Hill"].id
    sams = _create(engine, sam, peggy)
    nobodys = _create(engine, sam, peggy, assignee_id=None)
    # Kim (a rep) may not complete, edit or reassign Sam's task; she may take the unassigned one
    for change in (
        lambda s: editing.complete_task(s, kim, sams, expected_version=1, now=FIXED_NOW),
        lambda s: editing.edit_task(s, kim, sams, expected_version=1, now=FIXED_NOW, title="x"),
        lambda s: editing.reassign_task(s, kim, sams, kim.id, expected_version=1, now=FIXED_NOW),
        lambda s: editing.delete_task(s, kim, sams, expected_version=1),
    ):
        with pytest.raises(PermissionDenied), session_scope(engine) as s:
            change(s)
    with session_scope(engine) as s:
        assert editing.reassign_task(
            s, kim, nobodys, kim.id, expected_version=1, now=FIXED_NOW
        ) == ("Kim Lee")
    with pytest.raises(PermissionDenied, match="only managers"), session_scope(engine) as s:
        editing.reassign_task(s, kim, nobodys, sam.id, expected_version=2, now=FIXED_NOW)
    with session_scope(engine) as s:  # she gives it back
        assert editing.reassign_task(s, kim, nobodys, None, expected_version=2, now=FIXED_NOW) == (
            "nobody"
        )
    # a manager works and gives any task, to active reps and managers only
    with session_scope(engine) as s:
        editing.reassign_task(s, dana, sams, kim.id, expected_version=1, now=FIXED_NOW)
        editing.complete_task(s, dana, sams, expected_version=2, now=FIXED_NOW)
    with session_scope(engine) as s:
        s.execute(sa.text("UPDATE users SET role = 'technician' WHERE login = 'kim'"))
    with pytest.raises(UserError, match="active reps and managers"), session_scope(engine) as s:
        editing.reassign_task(s, dana, nobodys, kim.id, expected_version=3, now=FIXED_NOW)


def test_edit_and_reschedule_rearm_the_reminder(engine: Engine, people: Desk) -> None:
    sam = _actor(engine, "sam")
    task_id = _create(engine, sam, people.customers["Peggy Hill"].id)
    with session_scope(engine) as s:
        s.execute(sa.update(Task).where(Task.id == task_id).values(reminded_at=FIXED_NOW))
    with session_scope(engine) as s:
        editing.edit_task(
            s, sam, task_id, expected_version=1, now=FIXED_NOW, title="Call again", notes=""
        )
    with Session(engine) as s:
        row = s.get(Task, task_id)
        assert (row.title, row.notes, row.version, row.reminded_at) == (
            "Call again",
            None,
            2,
            FIXED_NOW,
        )
    due = parse_due("fri", FIXED_NOW, CHICAGO)
    with session_scope(engine) as s:
        editing.reschedule_task(
            s, sam, task_id, expected_version=2, due_at=due[0], all_day=due[1], now=FIXED_NOW
        )
    with Session(engine) as s:
        row = s.get(Task, task_id)
        assert (row.due_at, row.all_day, row.reminded_at, row.version) == (
            local("2026-11-27 00:00"),
            True,
            None,
            3,
        )
    with pytest.raises(TaskConflict), session_scope(engine) as s:
        editing.edit_task(s, sam, task_id, expected_version=2, now=FIXED_NOW, title="stale")
    with pytest.raises(UserError, match="in the past"), session_scope(engine) as s:
        editing.reschedule_task(
            s, sam, task_id, expected_version=3, due_at=FIXED_NOW - timedelta(days=3),
            all_day=True, now=FIXED_NOW,
        )  # fmt: skip


def test_delete_is_for_the_creator_or_a_manager_while_open(engine: Engine, people: Desk) -> None:
    sam, kim, dana = (_actor(engine, x) for x in ("sam", "kim", "dana"))
    peggy = people.customers["Peggy Hill"].id
    # Dana gives Sam a task: Sam may complete it but not delete it
    given = _create(engine, dana, peggy, assignee_id=sam.id)
    with pytest.raises(PermissionDenied, match="complete it instead"), session_scope(engine) as s:
        editing.delete_task(s, sam, given, expected_version=1)
    own = _create(engine, sam, peggy, assignee_id=None)
    with pytest.raises(PermissionDenied), session_scope(engine) as s:
        editing.delete_task(s, kim, own, expected_version=1)
    with session_scope(engine) as s:
        editing.delete_task(s, sam, own, expected_version=1)
        editing.complete_task(s, sam, given, expected_version=1, now=FIXED_NOW)
    with pytest.raises(TaskAlreadyDone), session_scope(engine) as s:
        editing.delete_task(s, dana, given, expected_version=2)
    with pytest.raises(NotFound), session_scope(engine) as s:
        editing.delete_task(s, dana, own, expected_version=1)


def test_reopen_undoes_a_completion_for_whoever_did_it_or_a_manager(
    engine: Engine, people: Desk
) -> None:
    sam, kim, dana = (_actor(engine, x) for x in ("sam", "kim", "dana"))
    peggy = people.customers["Peggy Hill"].id
    task_id = _create(engine, sam, peggy, assignee_id=None)  # Kim may work it too
    later = FIXED_NOW + timedelta(minutes=5)

    def reopen(actor: Actor, version: int) -> None:
        with session_scope(engine) as s:
            editing.reopen_task(s, actor, task_id, expected_version=version, now=later)

    with pytest.raises(TaskConflict, match="open, not done"):
        reopen(sam, 1)  # nothing to undo yet
    with session_scope(engine) as s:
        assert editing.complete_task(s, sam, task_id, expected_version=1, now=FIXED_NOW) == 2
    with pytest.raises(PermissionDenied, match="Sam Ortiz completed this task"):
        reopen(kim, 2)  # another rep, though the task is one she may work
    with pytest.raises(TaskConflict, match="changed this task after you completed it"):
        reopen(sam, 1)
    reopen(sam, 2)
    with Session(engine) as s:
        row = s.get(Task, task_id)
        assert (row.done_at, row.done_by, row.version) == (None, None, 3)
        assert row.updated_by == sam.id and row.updated_at == later
        assert [t.id for t in queries.open_tasks(s, customer_id=peggy)] == [task_id]
    with pytest.raises(TaskConflict, match="not done \\(last changed by Sam Ortiz\\)"):
        reopen(sam, 3)  # twice
    # done again by Sam; Dana reopens and completes it meanwhile: Sam's undo is stale
    with session_scope(engine) as s:
        assert editing.complete_task(s, sam, task_id, expected_version=3, now=later) == 4
    reopen(dana, 4)  # a manager may undo anyone's
    with session_scope(engine) as s:
        editing.complete_task(s, dana, task_id, expected_version=5, now=later)
    with pytest.raises(PermissionDenied, match="Dana Reyes completed this task"):
        reopen(sam, 4)
    with pytest.raises(TaskConflict, match="Dana Reyes changed this task"):
        reopen(dana, 4)
    with Session(engine) as s:
        row = s.get(Task, task_id)
        assert (row.done_by, row.version) == (dana.id, 6)  # untouched by the refusals


def test_the_desk_reopens_what_it_completed(engine: Engine, people: Desk) -> None:
    sam = AppDesk(app_context(engine, FixedClock(FIXED_NOW), people.rep))
    peggy = people.customers["Peggy Hill"].id
    row = sam.tasks.create(peggy, TaskDraft(kind="call", title="Ask about the quote", due="2pm"))
    done = sam.tasks.complete(row)
    assert (done.done_by_name, done.version) == ("Sam Ortiz", 2)
    assert sam.tasks.open_for(customer_id=peggy) == []
    again = sam.tasks.reopen(done)
    assert (again.done_at, again.done_by_name, again.version) == (None, None, 3)
    assert (again.due_at, again.all_day) == (row.due_at, row.all_day)  # due as it was
    assert [t.id for t in sam.tasks.open_for(customer_id=peggy)] == [row.id]
    with pytest.raises(TaskConflict):
        sam.tasks.reopen(done)


# --- lists -----------------------------------------------------------------------------------


@pytest.fixture
def week(engine: Engine, people: Desk) -> Desk:
    """Sam's tasks around FIXED_NOW (Tuesday 09:00 Chicago), Kim's one, an unassigned one, a
    done one."""
    with session_scope(engine) as s:
        sam = s.get(type(people.rep), people.rep.id)
        kim = s.exec(sa.select(type(people.rep)).where(sa.text("login = 'kim'"))).scalar_one()
        c = {n: s.get(Customer, x.id) for n, x in people.customers.items()}
        plan = [
            ("overdue all-day", "Peggy Hill", "2026-11-20 00:00", True, sam),
            ("overdue timed", "Bill Dauterive", "2026-11-24 08:30", False, sam),
            ("today all-day", "Luanne Platter", "2026-11-24 00:00", True, sam),
            ("today later", "Peggy Hill", "2026-11-24 16:00", False, sam),
            ("tonight", "Dale Gribble", "2026-11-24 23:59", False, sam),
            ("tomorrow", "Luanne Platter", "2026-11-25 00:00", True, sam),
            ("next week", "Bill Dauterive", "2026-12-01 10:00", False, sam),
            ("kim's", "Peggy Hill", "2026-11-24 10:00", False, kim),
            ("nobody's", "Dale Gribble", "2026-11-24 11:00", False, None),
        ]
        for i, (title, who, due, all_day, assignee) in enumerate(plan, 10):
            add_task(s, c[who], title, due_at=local(due), all_day=all_day, assignee=assignee, n=i)
        add_task(
            s, c["Peggy Hill"], "done one", due_at=local("2026-11-23 09:00"), assignee=sam,
            done_at=FIXED_NOW - timedelta(hours=1), done_by=sam, n=30,
        )  # fmt: skip
    return people


def _titles(rows) -> list[str]:
    return [r.title for r in rows]


def test_my_tasks_in_buckets_against_the_business_day(engine: Engine, week: Desk) -> None:
    with Session(engine) as s:
        mine = queries.my_tasks(s, now=FIXED_NOW, tz=CHICAGO, assignee_id=week.rep.id)
        # Hank's "Follow up" (a next step in two days, seeded) is upcoming too
        assert _titles(mine.overdue) == ["overdue all-day", "overdue timed"]
        assert _titles(mine.today) == ["today all-day", "today later", "tonight"]
        assert _titles(mine.upcoming) == ["tomorrow", "Follow up", "next week"]
        assert (mine.overdue_count, mine.today_count, mine.upcoming_count, mine.due_count) == (
            2,
            3,
            3,
            5,
        )
        one = queries.my_tasks(s, now=FIXED_NOW, tz=CHICAGO, assignee_id=week.rep.id, limit=1)
        assert [len(one.overdue), len(one.today), len(one.upcoming)] == [1, 1, 1]
        assert (one.overdue_count, one.today_count, one.upcoming_count) == (2, 3, 3)
        nobody = queries.my_tasks(s, now=FIXED_NOW, tz=CHICAGO, assignee_id=None, unassigned=True)
        assert _titles(nobody.today) == ["nobody's"] and nobody.due_count == 1
        # In Tokyo it is already Wednesday: today's Chicago tasks are overdue there
        tokyo = queries.my_tasks(s, now=FIXED_NOW, tz=TOKYO, assignee_id=week.rep.id)
        assert "today all-day" in _titles(tokyo.overdue) and "tonight" in _titles(tokyo.today)
        # the same counts by hand: one bucket expression for all
        rows = s.execute(
            sa.select(queries.bucket_sql(FIXED_NOW, CHICAGO), sa.func.count())
            .where(Task.assignee_id == week.rep.id, Task.done_at.is_(None))
            .group_by(sa.literal_column("1"))
        ).all()
        assert dict(rows) == {"overdue": 2, "today": 3, "upcoming": 3}


def test_customer_lists_and_the_soonest_task_column(engine: Engine, week: Desk) -> None:
    peggy = week.customers["Peggy Hill"].id
    with Session(engine) as s:
        assert _titles(queries.open_tasks(s, customer_id=peggy)) == [
            "overdue all-day",
            "kim's",
            "today later",
        ]
        assert _titles(queries.done_tasks(s, customer_id=peggy)) == ["done one"]
        assert queries.done_tasks(s, customer_id=peggy)[0].done_by_name == "Sam Ortiz"
        rows = s.execute(
            sa.select(
                Customer.name,
                queries.next_task_due_sql(Customer.id),
                queries.next_task_title_sql(Customer.id),
                queries.has_open_task_sql(Customer.id),
            ).order_by(Customer.name)
        ).all()
        got = {name: (due, title, has) for name, due, title, has in rows}
        assert got["Peggy Hill"] == (local("2026-11-20 00:00"), "overdue all-day", True)
        assert got["Dale Gribble"][1] == "nobody's"
        assert got["Strickland Propane"] == (None, None, False)


def test_the_desk_use_cases(engine: Engine, people: Desk) -> None:
    clock = FixedClock(FIXED_NOW)
    sam = AppDesk(app_context(engine, clock, people.rep))
    peggy = people.customers["Peggy Hill"].id
    row = sam.tasks.create(peggy, TaskDraft(kind="call", title="Ask about the quote", due="2pm"))
    assert (row.assignee_name, row.due_at, row.all_day) == (
        "Sam Ortiz",
        local("2026-11-24 14:00"),
        False,
    )
    assert sam.tasks.due_label(row) == "today 14:00" and sam.tasks.due_text(row).endswith("14:00")
    nobody = sam.tasks.create(
        peggy, TaskDraft(kind="todo", title="Find", due="fri", unassigned=True)
    )
    assert nobody.assignee_id is None
    assert [t.id for t in sam.tasks.open_for(customer_id=peggy)] == [row.id, nobody.id]
    assert sam.tasks.mine().today == [row]
    moved = sam.tasks.reschedule(row, "tomorrow 9:15")
    assert (moved.version, moved.due_at) == (2, local("2026-11-25 09:15"))
    with pytest.raises(TaskConflict):
        sam.tasks.complete(row)  # the version before the reschedule
    edited = sam.tasks.edit(moved, title="Ask about financing", kind=TaskKind.email, due="+1")
    assert (edited.title, edited.kind, edited.all_day) == ("Ask about financing", "email", True)
    sam.tasks.complete(edited)
    assert sam.tasks.done_for(customer_id=peggy)[0].id == row.id
    assert sam.tasks.reassign(nobody, people.rep.id) == "Sam Ortiz"
    with pytest.raises(UserError, match="not a due date"):
        sam.tasks.create(peggy, TaskDraft(kind="call", title="x", due="soonish"))


def test_the_manager_may_give_tasks_reps_only_themselves(engine: Engine, people: Desk) -> None:
    clock = FixedClock(FIXED_NOW)
    dana = AppDesk(app_context(engine, clock, people.manager))
    sam = AppDesk(app_context(engine, clock, people.rep))
    hank = people.customers["Hank Hill"].id
    given = dana.tasks.create(
        hank, TaskDraft(kind="call", title="Call Hank", due="today", assignee_id=people.rep.id)
    )
    assert given.assignee_name == "Sam Ortiz"
    with pytest.raises(PermissionDenied):
        sam.tasks.create(
            hank, TaskDraft(kind="call", title="x", due="today", assignee_id=people.manager.id)
        )
    assert people.manager.role == UserRole.manager
