"""Leads domain rules against real PostgreSQL: inbox order and filters, calls, convert, assign."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from factories import FIXED_NOW, Desk, add_customer, add_user, days_before, pipeline_by_name
from sqlalchemy import Engine, select
from sqlmodel import Session

from salesengine_tui.access.users import Actor
from salesengine_tui.activity import feed as activity
from salesengine_tui.base.errors import UserError
from salesengine_tui.customers import leads
from salesengine_tui.db.engine import session_scope
from salesengine_tui.db.models import Customer, CustomerStatus, UserRole

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


def test_parse_when() -> None:
    assert leads.parse_when("", FIXED_NOW, TZ) is None
    assert leads.parse_when("+3", FIXED_NOW, TZ).date().isoformat() == "2026-11-27"
    assert leads.parse_when("tomorrow", FIXED_NOW, TZ).hour == 9
    assert leads.parse_when("2026-12-01", FIXED_NOW, TZ).date().isoformat() == "2026-12-01"
    for bad, says in [
        ("next tuesday", "is not a date"),
        ("2026-02-30", "is not a date"),
        ("2020-01-01", "in the past"),
        ("+99999", "ten years"),
    ]:
        with pytest.raises(UserError, match=says):
            leads.parse_when(bad, FIXED_NOW, TZ)


def test_log_call_validates_and_keeps_transactions_whole(engine: Engine, desk: Desk) -> None:
    hank = desk.customers["Hank Hill"].id
    actor = Actor.of(desk.manager)
    for kwargs, says in [
        ({"outcome": "maybe"}, "unknown call outcome"),
        ({"notes": "x" * 10_001}, "notes are too long"),
        ({"next_step_at": FIXED_NOW - timedelta(days=3)}, "in the past"),
    ]:
        args = {"outcome": "connected", "notes": "", "next_step_at": None, **kwargs}
        with pytest.raises(UserError, match=says), session_scope(engine) as s:
            leads.log_call(s, actor, hank, now=FIXED_NOW, **args)
    with Session(engine) as s:
        assert s.get(Customer, hank).last_interaction_at is None
    with session_scope(engine) as s:
        call = leads.log_call(
            s,
            actor,
            hank,
            outcome="connected",
            notes="y" * 10_000,
            next_step_at=None,
            now=FIXED_NOW,
        )
        assert len(call.notes) == 10_000
    with Session(engine) as s:
        hank_row = s.get(Customer, hank)
        assert hank_row.last_interaction_at == FIXED_NOW and hank_row.next_step_at is None


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
    with Session(engine) as s:
        pipeline = pipeline_by_name(s, "Residential Replacements").id
    with pytest.raises(UserError, match="one lead at a time"), session_scope(engine) as s:
        leads.convert(s, actor, ids, now=FIXED_NOW, open_estimate=(pipeline, "x", 1))


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
