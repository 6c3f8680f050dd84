"""Opening and editing deals against real PostgreSQL: where a new deal starts, its history row
and NOTIFY, the optimistic lock, who may do what, one change row per field changed, the
timeline, conversion with a deal in one transaction, the deal screen's read, and the parsers
for what people type (money, close dates)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import psycopg
import pytest
import sqlalchemy as sa
from deals_edit_data import add_change, add_closed_ticket, add_equipment, add_upsell_deal
from factories import (
    FIXED_NOW,
    Desk,
    add_customer,
    add_estimate,
    add_interaction,
    add_user,
    app_context,
    days_before,
    pipeline_by_name,
    stages_of,
)
from sqlalchemy import Engine, select
from sqlmodel import Session

from salesengine_tui.access.users import Actor
from salesengine_tui.activity import feed
from salesengine_tui.base import validation
from salesengine_tui.base.clock import FixedClock
from salesengine_tui.base.errors import NotFound, PermissionDenied, UserError
from salesengine_tui.db import live
from salesengine_tui.db.engine import session_scope
from salesengine_tui.db.models import (
    Customer,
    CustomerStatus,
    Estimate,
    EstimateChange,
    EstimateStageHistory,
    EstimateStatus,
    Task,
    UserRole,
)
from salesengine_tui.deals import board, deal_view, editing
from salesengine_tui.tasks.model import TaskDraft
from salesengine_tui.usecases import Desk as AppDesk
from salesengine_tui.usecases.deals import NewDeal
from salesengine_tui.widgets import timeline_list

TODAY = date(2026, 11, 24)  # FIXED_NOW in the business time zone (America/Chicago)
RES = "Residential Replacements"


def res(engine: Engine) -> dict[str, object]:
    with Session(engine) as s:
        return {name: stage for name, stage in stages_of(s, RES).items()}


def pipeline(engine: Engine, name: str = RES) -> uuid.UUID:
    with Session(engine) as s:
        return pipeline_by_name(s, name).id


def create(engine: Engine, actor: Actor, customer_id: uuid.UUID, **kw: object) -> uuid.UUID:
    values: dict[str, object] = {
        "pipeline_id": pipeline(engine),
        "stage_id": None,
        "title": "Heat pump",
        "amount": Decimal("4200"),
        "expected_close_on": date(2026, 12, 15),
        "owner_id": actor.id,
    }
    values.update(kw)
    with session_scope(engine) as s:
        return editing.create_deal(
            s, actor, customer_id=customer_id, now=FIXED_NOW, today=TODAY, **values
        )


def edit(engine: Engine, actor: Actor, estimate_id: uuid.UUID, **kw: object) -> editing.Edited:
    if "expected_version" not in kw:  # the version the editor saw: the current one
        kw["expected_version"] = estimate(engine, estimate_id).version
    with session_scope(engine) as s:
        return editing.edit_deal(s, actor, estimate_id, now=FIXED_NOW, today=TODAY, **kw)


def estimate(engine: Engine, estimate_id: uuid.UUID) -> Estimate:
    with Session(engine) as s:
        return s.get(Estimate, estimate_id)


def changes(engine: Engine, estimate_id: uuid.UUID) -> list[tuple[str, str | None, str | None]]:
    with Session(engine) as s:
        rows = s.exec(
            select(EstimateChange)
            .where(EstimateChange.estimate_id == estimate_id)
            .order_by(EstimateChange.changed_at, EstimateChange.field)
        ).scalars()
        return [(c.field, c.old_value, c.new_value) for c in rows]


def counts(engine: Engine) -> tuple[int, int, int, int]:
    """Everything a refused write could have touched."""
    with Session(engine) as s:
        return tuple(  # type: ignore[return-value]
            s.execute(select(sa.func.count()).select_from(table)).scalar_one()
            for table in (Estimate, EstimateStageHistory, EstimateChange, Task)
        )


# --- what people type ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("4200", "4200.00"),
        ("4,200", "4200.00"),
        ("$4,200.50", "4200.50"),
        ("$ 1250.5", "1250.50"),
        (".99", "0.99"),
        ("0", "0.00"),
        ("9,999,999,999.99", "9999999999.99"),
    ],
)
def test_money_as_people_type_it(typed: str, amount: str) -> None:
    assert validation.parse_money(typed) == Decimal(amount)


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("", "required"),
        ("-5", "cannot be negative"),
        ("$-5", "cannot be negative"),
        ("(5)", "cannot be negative"),
        ("1.234", "at most two decimals"),
        ("10000000000", "too large"),
        ("1,25,0", "is not an amount"),
        ("1e5", "is not an amount"),
        ("NaN", "is not an amount"),
        ("٤٢", "is not an amount"),  # other scripts' digits: not what a price field takes
        ("4200\x1b[2J", "is not an amount"),
    ],
)
def test_money_refused_with_a_reason(typed: str, says: str) -> None:
    with pytest.raises(UserError, match=says):
        validation.parse_money(typed)
    with pytest.raises(UserError, match="value"):
        validation.check_money(Decimal("-0.01"))


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("", None),
        ("2026-12-15", date(2026, 12, 15)),
        ("+30", date(2026, 12, 24)),
        ("+7d", date(2026, 12, 1)),
        ("eom", date(2026, 11, 30)),
        ("EONM", date(2026, 12, 31)),
    ],
)
def test_close_dates_as_people_type_them(typed: str, day: date | None) -> None:
    assert editing.parse_close_date(typed, TODAY) == day


def test_close_dates_refused_when_absurd() -> None:
    for typed in ("next week", "12/15/2026", "20261215", "2026-02-30", "+99999"):
        with pytest.raises(UserError, match="expected close"):
            editing.parse_close_date(typed, TODAY)
    check = editing.check_close_date
    with pytest.raises(UserError, match="before 2000"):
        check(date(1999, 12, 31), TODAY, allow_past=True)
    with pytest.raises(UserError, match="more than 10 years"):
        check(date(2036, 11, 25), TODAY, allow_past=True)
    assert check(date(2036, 11, 24), TODAY, allow_past=True) == date(2036, 11, 24)
    with pytest.raises(UserError, match="in the past"):
        check(date(2026, 11, 23), TODAY, allow_past=False)
    assert check(date(2026, 11, 23), TODAY, allow_past=True) == date(2026, 11, 23)


# --- opening a deal ----------------------------------------------------------------------------


def test_create_starts_in_the_first_open_stage_with_history_and_tells_the_board(
    engine: Engine, desk: Desk
) -> None:
    manager = Actor.of(desk.manager)
    dale = desk.customers["Dale Gribble"].id
    with psycopg.connect(live.conninfo(engine.url), autocommit=True) as listener:
        listener.execute(f"LISTEN {board.BOARD_CHANNEL}")
        deal_id = create(engine, manager, dale, origin="board-1", owner_id=desk.rep.id)
        heard = list(listener.notifies(timeout=2, stop_after=1))
    change = board.BoardChange.from_json(heard[0].payload)
    assert change is not None
    e = estimate(engine, deal_id)
    stages = res(engine)
    # A new card: no stage left, the one entered, its value (an open board patches it in).
    assert (change.pipeline_id, change.estimate_id, change.by, change.origin, change.kind) == (
        pipeline(engine), deal_id, manager.id, "board-1", "card"
    )  # fmt: skip
    assert (change.from_stage_id, change.to_stage_id, change.amount) == (
        None, stages["New"].id, Decimal("4200.00")
    )  # fmt: skip
    assert (e.customer_id, e.title, e.amount, e.stage_id) == (
        dale,
        "Heat pump",
        Decimal("4200.00"),
        stages["New"].id,
    )
    assert (e.owner_id, e.created_by, e.updated_by) == (desk.rep.id, manager.id, manager.id)
    assert e.status == EstimateStatus.draft and e.expected_close_on == date(2026, 12, 15)
    assert not e.amount_estimated and e.stage_entered_at == FIXED_NOW and e.version == 1
    with Session(engine) as s:
        history = s.exec(
            select(EstimateStageHistory).where(EstimateStageHistory.estimate_id == deal_id)
        ).scalars().all()  # fmt: skip
    assert [(h.from_stage_name, h.to_stage_name, h.moved_by) for h in history] == [
        (None, "New", manager.id)
    ]
    # in a stage further on: sent, as a move there would make it
    later = create(engine, manager, dale, stage_id=stages["Proposal Sent"].id)
    assert estimate(engine, later).status == EstimateStatus.sent


def test_create_refuses_bad_input_and_writes_nothing(engine: Engine, desk: Desk) -> None:
    manager = Actor.of(desk.manager)
    dale = desk.customers["Dale Gribble"].id
    stages = res(engine)
    with Session(engine) as s:
        commercial_new = stages_of(s, "Commercial Contracts")["Qualified"].id
    before = counts(engine)
    refused = {
        "blank title": ({"title": "  "}, "title is required"),
        "long title": ({"title": "x" * 201}, "title is too long"),
        "title with a line break": ({"title": "one\ntwo"}, "title: contains a line break"),
        "title with an escape": ({"title": "AC \x1b[2J"}, "title: contains a control"),
        "negative": ({"amount": Decimal("-1")}, "cannot be negative"),
        "cents": ({"amount": Decimal("1.001")}, "two decimals"),
        "too large": ({"amount": Decimal("10000000000")}, "too large"),
        "close in the past": ({"expected_close_on": date(2026, 11, 23)}, "in the past"),
        "close in 1999": ({"expected_close_on": date(1999, 1, 1)}, "before 2000"),
        "straight to Won": ({"stage_id": stages["Won"].id}, "starts in an open stage"),
        "straight to Lost": ({"stage_id": stages["Lost"].id}, "starts in an open stage"),
        "another pipeline's stage": ({"stage_id": commercial_new}, "no longer exists"),
        "no such customer": ({"customer_id": uuid.uuid4()}, "customer no longer exists"),
    }
    for what, (kw, says) in refused.items():
        customer = kw.pop("customer_id", dale)
        with pytest.raises(UserError, match=says):
            create(engine, manager, customer, **kw)
        assert counts(engine) == before, what


def test_who_may_open_a_deal_for_whom(engine: Engine, desk: Desk) -> None:
    manager, rep = Actor.of(desk.manager), Actor.of(desk.rep)
    with session_scope(engine) as s:
        tech = Actor.of(add_user(s, "tina", name="Tina Tech", role=UserRole.technician))
        gone = add_user(s, "old", name="Old Rep")
        gone.active = False
        gone_id = gone.id
    dale = desk.customers["Dale Gribble"].id
    before = counts(engine)
    with pytest.raises(PermissionDenied, match="only reps and managers may create and edit"):
        create(engine, tech, dale, owner_id=None)
    with pytest.raises(PermissionDenied, match="a rep opens deals for themselves"):
        create(engine, rep, dale, owner_id=manager.id)
    with pytest.raises(PermissionDenied, match="a rep opens deals for themselves"):
        create(engine, rep, dale, owner_id=None)
    with pytest.raises(UserError, match="active reps and managers only"):
        create(engine, manager, dale, owner_id=gone_id)
    with pytest.raises(UserError, match="active reps and managers only"):
        create(engine, manager, dale, owner_id=tech.id)
    assert counts(engine) == before
    assert estimate(engine, create(engine, rep, dale)).owner_id == rep.id
    assert estimate(engine, create(engine, manager, dale, owner_id=None)).owner_id is None
    assert estimate(engine, create(engine, manager, dale, owner_id=rep.id)).owner_id == rep.id


# --- editing a deal ----------------------------------------------------------------------------


def test_edit_changes_only_what_was_given_one_row_per_field(engine: Engine, desk: Desk) -> None:
    manager = Actor.of(desk.manager)
    deal_id = create(engine, manager, desk.customers["Dale Gribble"].id)
    done = edit(engine, manager, deal_id, title="Heat pump, 3 ton", amount=Decimal("4500.5"))
    assert [c.describe() for c in done.changes] == [
        "Title Heat pump → Heat pump, 3 ton",
        "Value $4,200 → $4,500.50",
    ]
    e = estimate(engine, deal_id)
    assert (e.title, e.amount, e.version) == ("Heat pump, 3 ton", Decimal("4500.50"), 2)
    assert e.expected_close_on == date(2026, 12, 15) and e.owner_id == manager.id  # kept
    assert done.card.version == 2 and done.card.title == "Heat pump, 3 ton"
    # the same values again: nothing written, the version stays
    again = edit(engine, manager, deal_id, title="Heat pump, 3 ton", amount=Decimal("4500.50"))
    assert again.changes == [] and estimate(engine, deal_id).version == 2
    # a date can be cleared, and set in the past (a deal that slipped), with a warning
    cleared = edit(engine, manager, deal_id, expected_close_on=None, owner_id=desk.rep.id)
    assert [c.describe() for c in cleared.changes] == [
        "Expected close 2026-12-15 → none",
        "Owner Dana Reyes → Sam Ortiz",
    ]
    past = edit(engine, manager, deal_id, expected_close_on=date(2026, 11, 1), owner_id=None)
    assert past.warnings == ["expected close 2026-11-01 is in the past"]
    assert [c.describe() for c in past.changes] == [
        "Expected close none → 2026-11-01",
        "Owner Sam Ortiz → unassigned",
    ]
    assert sorted(changes(engine, deal_id), key=str) == sorted(  # all written at FIXED_NOW
        [
            ("title", "Heat pump", "Heat pump, 3 ton"),
            ("value", "$4,200", "$4,500.50"),
            ("expected_close", "2026-12-15", None),
            ("owner", "Dana Reyes", "Sam Ortiz"),
            ("expected_close", None, "2026-11-01"),
            ("owner", "Sam Ortiz", None),
        ],
        key=str,
    )
    with pytest.raises(UserError, match="title: contains a control"):
        edit(engine, manager, deal_id, title="x\x1b]0;pwned\x07")
    with pytest.raises(UserError, match="before 2000"):
        edit(engine, manager, deal_id, expected_close_on=date(1990, 1, 1))
    assert estimate(engine, deal_id).version == 4


def test_a_typed_value_clears_the_estimate_mark(engine: Engine, desk: Desk) -> None:
    manager = Actor.of(desk.manager)
    stages = res(engine)
    with session_scope(engine) as s:
        luanne = s.get(Customer, desk.customers["Luanne Platter"].id)
        ticket = add_closed_ticket(s, luanne, add_equipment(s, luanne))
        deal_id = add_upsell_deal(s, luanne, stages["New"], ticket, 1850).id
    # confirming the guessed value as it is: no longer an estimate, and said so
    done = edit(engine, manager, deal_id, amount=Decimal("1850"))
    assert [c.describe() for c in done.changes] == ["Value $1,850 (estimate) → $1,850"]
    assert not estimate(engine, deal_id).amount_estimated
    # the title alone leaves a value's mark as it is
    with session_scope(engine) as s:
        s.execute(sa.update(Estimate).where(Estimate.id == deal_id).values(amount_estimated=True))
    edit(engine, manager, deal_id, title="New furnace")
    assert estimate(engine, deal_id).amount_estimated


def test_a_stale_version_is_refused_naming_who_changed_it(engine: Engine, desk: Desk) -> None:
    manager = Actor.of(desk.manager)
    with session_scope(engine) as s:
        mia = Actor.of(add_user(s, "mia", name="Mia Park", role=UserRole.manager))
    deal_id = create(engine, manager, desk.customers["Dale Gribble"].id)
    edit(engine, mia, deal_id, amount=Decimal("5000"))  # Mia was first (version 1 -> 2)
    before = counts(engine)
    with pytest.raises(editing.MoveConflict) as refused:
        edit(engine, manager, deal_id, expected_version=1, title="Mine")
    assert str(refused.value) == (
        "Mia Park changed this estimate first; it is now in New. Nothing was overwritten."
    )
    assert refused.value.card.amount == Decimal("5000.00")  # the deal as it is now
    assert counts(engine) == before and estimate(engine, deal_id).title == "Heat pump"
    with pytest.raises(NotFound):
        edit(engine, manager, uuid.uuid4(), expected_version=1, title="x")


def test_who_may_edit_and_assign(engine: Engine, desk: Desk) -> None:
    manager, rep = Actor.of(desk.manager), Actor.of(desk.rep)
    with session_scope(engine) as s:
        tech = Actor.of(add_user(s, "tina", name="Tina Tech", role=UserRole.technician))
    dale = desk.customers["Dale Gribble"].id
    managers = create(engine, manager, dale)
    reps = create(engine, rep, dale)
    nobodys = create(engine, manager, dale, owner_id=None)
    before = counts(engine)
    with pytest.raises(PermissionDenied, match="this deal is Dana Reyes's"):
        edit(engine, rep, managers, title="Mine now")
    with pytest.raises(PermissionDenied, match="only reps and managers may"):
        edit(engine, tech, nobodys, title="Tech edit")
    with pytest.raises(PermissionDenied, match="only managers may give a deal to someone else"):
        edit(engine, rep, reps, owner_id=manager.id)
    with pytest.raises(PermissionDenied, match="only managers may give a deal"):
        edit(engine, rep, reps, owner_id=None)  # nor leave it unowned
    with pytest.raises(PermissionDenied, match="only managers may give a deal"):
        edit(engine, rep, nobodys, owner_id=manager.id)
    assert counts(engine) == before
    assert edit(engine, rep, reps, title="Own deal").changes  # their own
    assert edit(engine, rep, nobodys, amount=Decimal("10")).changes  # an unassigned one
    assert edit(engine, rep, nobodys, owner_id=rep.id).card.owner_id == rep.id  # taken
    assert edit(engine, manager, reps, owner_id=manager.id).card.owner_id == manager.id
    assert edit(engine, manager, managers, owner_id=None).card.owner_id is None


def test_reassign_on_the_board_is_on_the_history(
    engine: Engine, desk: Desk, clock: FixedClock
) -> None:
    app_desk = AppDesk(app_context(engine, clock, desk.manager))
    with Session(engine) as s:
        card = board.get_card(s, s.exec(select(Estimate).limit(1)).scalars().one().id)
    assert app_desk.deals.reassign(card, desk.rep.id) == "Sam Ortiz"
    assert changes(engine, card.id) == [("owner", "Dana Reyes", "Sam Ortiz")]
    rep_desk = AppDesk(app_context(engine, clock, desk.rep))
    with Session(engine) as s:
        card = board.get_card(s, card.id)
    with pytest.raises(PermissionDenied, match="only managers may reassign"):
        rep_desk.deals.reassign(card, None)


# --- the timeline -------------------------------------------------------------------------------


def test_changes_and_lost_reasons_are_on_the_customers_timeline(engine: Engine, desk: Desk) -> None:
    manager = Actor.of(desk.manager)
    dale = desk.customers["Dale Gribble"].id
    deal_id = create(engine, manager, dale, amount=Decimal("0"), title="Replacement estimate")
    edit(engine, manager, deal_id, amount=Decimal("4200"), title="Heat pump [b]x[/b]")
    with Session(engine) as s:
        count_before = feed.timeline_count(s, dale)
    with session_scope(engine) as s:
        card = board.get_card(s, deal_id)
        board.move(s, manager, deal_id, expected_version=card.version,
                   to_stage_id=res(engine)["Lost"].id, now=FIXED_NOW + timedelta(minutes=1),
                   lost_reason="Went with a cheaper bid")  # fmt: skip
    with Session(engine) as s:
        timeline = feed.recent_activity(s, 50, customer_id=dale)
        total = feed.timeline_count(s, dale)
        team = feed.recent_activity(s, 50)
    assert total == count_before + 1 == len(timeline)
    number = estimate(engine, deal_id).number
    lost = timeline[0]
    assert (lost.kind, lost.to_stage, lost.notes) == (
        feed.ActivityKind.stage_move,
        "Lost",
        "Went with a cheaper bid",
    )
    assert timeline_list.body(lost) == "Reason: Went with a cheaper bid"  # on the entry
    edits = [i for i in timeline if i.kind is feed.ActivityKind.deal_change]
    value = next(i for i in edits if i.field == "value")
    assert timeline_list.headline(value) == f"✎ Value $0 → $4,200 · #{number} Heat pump [b]x[/b]"
    assert {(i.field, i.from_stage, i.to_stage, i.estimate_number) for i in edits} == {
        ("title", "Replacement estimate", "Heat pump [b]x[/b]", number),
        ("value", "$0", "$4,200", number),
    }
    assert all(i.user_name == "Dana Reyes" and i.customer_name == "Dale Gribble" for i in edits)
    # the team's feed leaves field edits to the timelines
    assert not any(i.kind is feed.ActivityKind.deal_change for i in team)
    # keyset paging walks the whole timeline, every kind, once each
    seen, before = [], None
    with Session(engine) as s:
        while page := feed.recent_activity(s, 2, customer_id=dale, before=before):
            seen += page
            before = page[-1].key
    assert [i.key for i in seen] == [i.key for i in timeline]


# --- conversion with a deal ---------------------------------------------------------------------


def test_convert_opens_the_typed_deal_in_the_same_transaction(
    engine: Engine, desk: Desk, clock: FixedClock
) -> None:
    app_desk = AppDesk(app_context(engine, clock, desk.manager))
    hank, dale = desk.customers["Hank Hill"].id, desk.customers["Dale Gribble"].id
    deal = NewDeal(
        pipeline_id=pipeline(engine),
        stage_id=None,
        title="Furnace and coil",
        amount=Decimal("7450.00"),
        expected_close_on=date(2026, 12, 31),
        owner_id=desk.rep.id,
        first_task=TaskDraft(kind="call", title="Walk through the quote", due="tomorrow 10:00"),
    )
    before = counts(engine)
    with pytest.raises(UserError, match="one lead at a time"):
        app_desk.leads.convert([hank, dale], deal=deal)
    # a deal refused (a control character in its title): the lead stays a lead
    with pytest.raises(UserError, match="title: contains"):
        app_desk.leads.convert([hank], deal=replace(deal, title="x\x1b[2J"))
    assert counts(engine) == before
    with Session(engine) as s:
        assert s.get(Customer, hank).status == CustomerStatus.lead
    done = app_desk.leads.convert([hank], deal=deal)
    assert (done.converted, done.already) == (1, 0) and done.estimate_id is not None
    e = estimate(engine, done.estimate_id)
    assert (e.customer_id, e.title, e.amount, e.owner_id) == (
        hank,
        "Furnace and coil",
        Decimal("7450.00"),
        desk.rep.id,
    )
    with Session(engine) as s:
        assert s.get(Customer, hank).status == CustomerStatus.active
        task = s.exec(select(Task).where(Task.estimate_id == e.id)).scalars().one()
    assert (task.title, task.assignee_id, task.customer_id, task.all_day) == (
        "Walk through the quote",
        desk.rep.id,
        hank,
        False,
    )
    # converting without a deal opens none
    plain = app_desk.leads.convert([dale])
    assert plain.estimate_id is None and counts(engine)[0] == before[0] + 1


def test_a_new_lead_and_its_deal_are_saved_together_or_not_at_all(
    engine: Engine, desk: Desk, clock: FixedClock
) -> None:
    app_desk = AppDesk(app_context(engine, clock, desk.rep))
    deal = NewDeal(pipeline(engine), None, "Mini split", Decimal("3100"), None, desk.rep.id,
                   TaskDraft(kind="call", title="Call back", due="yesterday"))  # fmt: skip
    with Session(engine) as s:
        people = s.execute(select(sa.func.count()).select_from(Customer)).scalar_one()
    lead = {"name": "Rusty Shackleford", "phone": "(214) 555-0199"}
    with pytest.raises(UserError):  # the first task's due is refused: nothing is saved
        app_desk.deals.create(deal, new_lead=lead)
    with Session(engine) as s:
        assert s.execute(select(sa.func.count()).select_from(Customer)).scalar_one() == people
    opened = app_desk.deals.create(replace(deal, first_task=None), new_lead=lead, origin="b")
    with Session(engine) as s:
        rusty = s.get(Customer, opened.customer_id)
    assert (rusty.name, rusty.phone, rusty.status, rusty.owner_id) == (
        "Rusty Shackleford",
        "+12145550199",
        CustomerStatus.lead,
        desk.rep.id,
    )
    assert opened.card.customer_name == "Rusty Shackleford" and opened.task_id is None


# --- the deal screen's read ---------------------------------------------------------------------


def test_the_deal_view_interleaves_history_and_shows_where_an_upsell_came_from(
    engine: Engine, desk: Desk, clock: FixedClock
) -> None:
    stages = res(engine)
    with session_scope(engine) as s:
        luanne = s.get(Customer, desk.customers["Luanne Platter"].id)
        dana = desk.manager
        furnace = add_equipment(s, luanne, installed_on=date(2009, 5, 1))
        ticket = add_closed_ticket(s, luanne, furnace, closed_at=days_before(10))
        deal = add_upsell_deal(s, luanne, stages["Lost"], ticket, 1850,
                               entered_at=days_before(1))  # fmt: skip
        deal_id = deal.id
        s.add_all([
            EstimateStageHistory(estimate_id=deal_id, to_stage_id=stages["New"].id,
                                 to_stage_name="New", moved_at=days_before(9)),
            EstimateStageHistory(estimate_id=deal_id, from_stage_name="New",
                                 to_stage_id=stages["Lost"].id, to_stage_name="Lost",
                                 moved_by=dana.id, moved_at=days_before(1),
                                 lost_reason="Bought elsewhere"),
        ])  # fmt: skip
        add_change(s, deal, "value", "$0", "$1,850", by=dana, at=days_before(5))
        for i in range(7):
            add_interaction(s, luanne, dana, at=days_before(20 + i), notes=f"call {i}")
    app_desk = AppDesk(app_context(engine, clock, desk.manager))
    read = app_desk.deals.deal(deal_id)
    view = read.deal
    assert [(e.kind, e.to_stage or e.field, e.lost_reason or e.new) for e in view.history] == [
        ("stage", "Lost", "Bought elsewhere"),
        ("change", "value", "$1,850"),
        ("stage", "New", None),
    ]
    assert view.history_total == 3 and view.history[0].by == "Dana Reyes"
    assert view.ticket is not None and view.ticket.summary == "No heat, heat exchanger cracked"
    assert view.ticket.closed_at == days_before(10)
    assert view.equipment == deal_view.LinkedEquipment("Furnace", "Carrier", "59SC5",
                                                       date(2009, 5, 1))  # fmt: skip
    assert view.amount_estimated and view.stage_is_lost and view.closed
    assert view.owner_name is None and view.customer_name == "Luanne Platter"
    # the latest five interactions of the customer's eight, and how many there are
    assert len(view.interactions) == 5 and view.interactions_total == 8
    assert view.interactions[0].notes == "Sent the financing options"
    assert read.tasks == [] and not read.more_tasks
    with pytest.raises(NotFound):
        app_desk.deals.deal(uuid.uuid4())


def test_the_deal_screen_lists_the_customers_open_tasks(
    engine: Engine, desk: Desk, clock: FixedClock
) -> None:
    app_desk = AppDesk(app_context(engine, clock, desk.manager))
    hank = desk.customers["Hank Hill"].id
    with Session(engine) as s:
        hank_deal = s.exec(select(Estimate).where(Estimate.customer_id == hank)).scalars().one()
    for i in range(11):
        app_desk.tasks.create(hank, TaskDraft(kind="call", title=f"Call {i:02d}", due=f"+{i + 1}",
                                              estimate_id=hank_deal.id if i == 0 else None))  # fmt: skip
    read = app_desk.deals.deal(hank_deal.id)
    assert len(read.tasks) == 10 and read.more_tasks  # 12 open: the seeded follow-up too
    assert read.tasks[0].title == "Call 00" and read.tasks[0].estimate_number == hank_deal.number


def test_a_customers_deals_open_first(engine: Engine, desk: Desk, clock: FixedClock) -> None:
    app_desk = AppDesk(app_context(engine, clock, desk.manager))
    bill = desk.customers["Bill Dauterive"].id
    deals, total = app_desk.deals.customer_deals(bill)
    assert total == 2
    assert [(d.stage_name, d.is_won, d.amount) for d in deals] == [
        ("Proposal Sent", False, Decimal("15500.00")),
        ("Won", True, Decimal("7300.00")),
    ]
    with session_scope(engine) as s:
        nobody = add_customer(s, "Nobody Yet")
        add_estimate(s, nobody, res(engine)["New"], 1, title="Only one")
        nobody_id = nobody.id
    assert app_desk.deals.customer_deals(nobody_id)[1] == 1
