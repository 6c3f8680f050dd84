"""Leads domain rules against real PostgreSQL: inbox order and filters, calls, convert, assign."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from factories import (
    FIXED_NOW,
    Desk,
    add_customer,
    add_task,
    add_user,
    days_before,
)
from sqlalchemy import Engine, select
from sqlmodel import Session

from salesengine_tui.access.users import Actor
from salesengine_tui.activity import feed as activity
from salesengine_tui.base.errors import UserError
from salesengine_tui.customers import leads
from salesengine_tui.db.engine import session_scope
from salesengine_tui.db.models import Customer, CustomerStatus, Task, TaskKind, UserRole
from salesengine_tui.tasks.model import TaskDraft

TZ = ZoneInfo("America/Chicago")


@pytest.fixture
def many(engine: Engine, desk: Desk) -> Desk:
    """250 more leads: a third contacted, created an hour apart."""
    with Session(engine) as s:
        for i in range(250):
            add_customer(
                s,
                f"Lead {i:03d}",
                lead_source="Yelp" if i % 2 else "Referral",
                created_at=days_before(20) + timedelta(hours=i),
                last_interaction_at=days_before(i % 7) if i % 3 == 0 else None,
                phone=f"(214) 555-{i:04d}",
                n=1000 + i,
            )
        s.commit()
    return desk


def test_pages_follow_the_inbox_order(engine: Engine, many: Desk) -> None:
    with Session(engine) as s:
        total = leads.lead_count(s)
        everything = leads.lead_page(s, limit=10_000)
        assert len(everything) == total == 253
        keys = [
            (
                lead.last_interaction_at is not None,
                lead.last_interaction_at or FIXED_NOW,
                -lead.created_at.timestamp(),
            )
            for lead in everything
        ]
        assert keys == sorted(keys)  # never contacted first, then oldest touch; newest first
        assert leads.lead_page(s, offset=100, limit=50) == everything[100:150]
        assert leads.lead_page(s, from_end=True, limit=30) == everything[-30:]


def test_filters_and_search(engine: Engine, many: Desk) -> None:
    with Session(engine) as s:
        assert leads.lead_count(s, leads.LeadQuery(source="Yelp")) == 125
        assert leads.lead_count(s, leads.LeadQuery(not_contacted=True)) == 166 + 2
        due = leads.end_of_day(FIXED_NOW, TZ)
        assert leads.lead_count(s, leads.LeadQuery(due_before=due)) == 0  # Hank's is in 2 days
        assert leads.lead_count(s, leads.LeadQuery(owner_id=many.rep.id)) == 2
        assert leads.lead_count(s, leads.LeadQuery(text="lead 01")) == 10
        assert leads.lead_count(s, leads.LeadQuery(text="214-555-0042")) == 1  # digits match
        assert leads.lead_count(s, leads.LeadQuery(text="%")) == 0  # wildcards are literal


def test_log_call_validates_and_keeps_transactions_whole(engine: Engine, desk: Desk) -> None:
    hank = desk.customers["Hank Hill"].id
    actor = Actor.of(desk.manager)
    with Session(engine) as s:
        (follow_up,) = s.execute(select(Task).where(Task.customer_id == hank)).scalars().all()
    bad_next = TaskDraft(kind="call", title="Call back", due="2020-01-01")
    for kwargs, says in [
        ({"outcome": "maybe"}, "unknown call outcome"),
        ({"notes": "x" * 10_001}, "notes are too long"),
        ({"next_task": bad_next}, "in the past"),
        ({"next_task": replace(bad_next, due="tomorrow", title=" ")}, "task title is required"),
        ({"task_id": follow_up.id, "task_version": 9}, "changed this task after you opened it"),
    ]:
        args = {"outcome": "connected", "notes": "", **kwargs}
        with pytest.raises(UserError, match=says), session_scope(engine) as s:
            leads.log_call(s, actor, hank, now=FIXED_NOW, tz=TZ, **args)
    with Session(engine) as s:  # nothing of a refused call was written
        assert s.get(Customer, hank).last_interaction_at is None
        assert s.get(Task, follow_up.id).done_at is None
    with session_scope(engine) as s:
        call = leads.log_call(
            s, actor, hank, outcome="connected", notes="y" * 10_000, now=FIXED_NOW, tz=TZ
        )
        assert len(call.notes) == 10_000
    with Session(engine) as s:  # a call without a task leaves the plan as it was
        assert s.get(Customer, hank).last_interaction_at == FIXED_NOW
        assert s.get(Task, follow_up.id).done_at is None


def test_a_call_completes_its_task_and_schedules_the_next(engine: Engine, desk: Desk) -> None:
    hank, peggy = desk.customers["Hank Hill"].id, desk.customers["Peggy Hill"].id
    sam = Actor.of(desk.rep)
    with session_scope(engine) as s:
        other = add_task(
            s, s.get(Customer, hank), "Send brochure", due_at=FIXED_NOW, assignee=desk.manager
        ).id
        peggys = add_task(s, s.get(Customer, peggy), "Call Peggy", due_at=FIXED_NOW, n=50).id
        (follow_up,) = (
            s.execute(select(Task).where(Task.customer_id == hank, Task.title == "Follow up"))
            .scalars()
            .all()
        )
    with pytest.raises(UserError, match="another customer"), session_scope(engine) as s:
        leads.log_call(s, sam, hank, outcome="connected", notes=None, now=FIXED_NOW, tz=TZ,
                       task_id=peggys, task_version=1)  # fmt: skip
    with pytest.raises(UserError, match="Dana Reyes's"), session_scope(engine) as s:
        leads.log_call(s, sam, hank, outcome="connected", notes=None, now=FIXED_NOW, tz=TZ,
                       task_id=other, task_version=1)  # fmt: skip
    with session_scope(engine) as s:
        leads.log_call(
            s, sam, hank, outcome="connected", notes="Wants a quote", now=FIXED_NOW, tz=TZ,
            task_id=follow_up.id, task_version=follow_up.version,
            next_task=TaskDraft(kind="site_visit", title="Measure the attic", due="fri 10am"),
        )  # fmt: skip
    with Session(engine) as s:
        tasks = {
            t.title: t for t in s.execute(select(Task).where(Task.customer_id == hank)).scalars()
        }
        assert set(tasks) == {"Follow up", "Send brochure", "Measure the attic"}
        assert (tasks["Follow up"].done_at, tasks["Follow up"].done_by) == (FIXED_NOW, sam.id)
        assert tasks["Send brochure"].done_at is None  # someone else's plan stays
        new = tasks["Measure the attic"]
        assert (new.kind, new.assignee_id, new.all_day, new.done_at) == (
            TaskKind.site_visit,
            sam.id,
            False,
            None,
        )
        assert new.due_at == datetime(2026, 11, 27, 10, tzinfo=TZ)
    # the same task cannot be completed by a second call
    with pytest.raises(UserError, match="already completed"), session_scope(engine) as s:
        leads.log_call(s, sam, hank, outcome="voicemail", notes=None, now=FIXED_NOW, tz=TZ,
                       task_id=follow_up.id, task_version=follow_up.version)  # fmt: skip


def test_convert_counts_leads_already_converted(engine: Engine, desk: Desk) -> None:
    actor = Actor.of(desk.manager)
    ids = [desk.customers[n].id for n in ("Hank Hill", "Bill Dauterive")]  # Bill is active
    with session_scope(engine) as s:
        done = leads.convert(s, actor, ids, now=FIXED_NOW)
    assert (done.converted, done.already) == (1, 1)
    with Session(engine) as s:  # the conversion is on Hank's timeline, Bill's is untouched
        feed = activity.recent_activity(s, 10, customer_id=ids[0])
        change = next(i for i in feed if i.kind is activity.ActivityKind.status_change)
        assert (change.from_stage, change.to_stage, change.user_name) == (
            "lead",
            "active",
            "Dana Reyes",
        )
        bill = activity.recent_activity(s, 50, customer_id=ids[1])
        assert not any(i.kind is activity.ActivityKind.status_change for i in bill)
    with session_scope(engine) as s:  # again: nothing to do, no error
        assert leads.convert(s, actor, ids, now=FIXED_NOW).converted == 0


def test_assign_only_to_reps_and_managers(engine: Engine, desk: Desk) -> None:
    with session_scope(engine) as s:
        tech = add_user(s, "tina", role=UserRole.technician)
        tech_id = tech.id
    actor = Actor.of(desk.manager)
    dale = desk.customers["Dale Gribble"].id
    with pytest.raises(UserError, match="active reps and managers"), session_scope(engine) as s:
        leads.assign(s, actor, [dale], tech_id, now=FIXED_NOW)
    with session_scope(engine) as s:
        assert leads.assign(s, actor, [dale, dale], desk.rep.id, now=FIXED_NOW) == 1
    with session_scope(engine) as s:
        assert leads.assign(s, actor, [dale], desk.rep.id, now=FIXED_NOW) == 0  # no change
    with Session(engine) as s:
        statuses = s.exec(select(Customer.status).where(Customer.id == dale)).scalars().all()
        assert statuses == [CustomerStatus.lead]
