"""The board's domain rules against real PostgreSQL: paging, totals, moves, automations, locks."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import psycopg
import pytest
from factories import (
    FIXED_NOW,
    add_customer,
    add_estimate,
    add_task,
    add_user,
    days_before,
    pipeline_by_name,
    stages_of,
)
from sqlalchemy import Engine, select
from sqlmodel import Session

from salesengine_tui.access.users import Actor
from salesengine_tui.activity import feed as activity
from salesengine_tui.db import live
from salesengine_tui.db.engine import session_scope
from salesengine_tui.db.models import (
    Customer,
    CustomerStatus,
    Estimate,
    EstimateStageHistory,
    EstimateStatus,
    UserRole,
)
from salesengine_tui.deals import board, forecast

N = 250  # more than two blocks of a column


@pytest.fixture
def filled(engine: Engine) -> dict[str, object]:
    """N estimates in Residential 'New' (entered one hour apart, amounts and names varied),
    two in 'Proposal Sent', owned by two managers (reps may move only their own)."""
    with Session(engine, expire_on_commit=False) as session:
        ann = add_user(session, "ann", name="Ann Lee", role=UserRole.manager, n=1)
        bob = add_user(session, "bob", name="Bob Ray", role=UserRole.manager, n=2)
        stages = stages_of(session, "Residential Replacements")
        for i in range(N):
            customer = add_customer(session, f"Customer {(i * 37) % N:03d}", n=i + 1)
            add_estimate(
                session,
                customer,
                stages["New"],
                1000 + (i * 7919) % 5000,
                owner=ann if i % 2 else bob,
                entered_at=days_before(30) + timedelta(hours=i),
                n=i + 1,
            )
        lead = add_customer(session, "Lena Lead", n=900)
        won_target = add_estimate(
            session,
            lead,
            stages["Proposal Sent"],
            9000,
            owner=ann,
            entered_at=days_before(5),
            n=900,
        )
        session.commit()
        return {
            "ann": Actor.of(ann),
            "bob": Actor.of(bob),
            "stages": {name: s.id for name, s in stages.items()},
            "pipeline": pipeline_by_name(session, "Residential Replacements").id,
            "lead_estimate": won_target.id,
            "lead_customer": lead.id,
        }


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as s:
        yield s


def query(filled: dict[str, object], **kw: object) -> board.BoardQuery:
    return board.BoardQuery(pipeline_id=filled["pipeline"], **kw)  # type: ignore[arg-type]


def all_cards(session: Session, stage, q: board.BoardQuery) -> list[board.Card]:
    """Walk a column page by page with keyset continuation."""
    cards: list[board.Card] = []
    while True:
        page = board.page(session, stage, q, after=cards[-1] if cards else None, limit=100)
        cards += page
        if len(page) < 100:
            return cards


@pytest.mark.parametrize("sort", board.SORTS)
def test_keyset_pages_walk_the_column_in_order(session: Session, filled, sort) -> None:
    new = filled["stages"]["New"]
    q = query(filled, sort=sort)
    cards = all_cards(session, new, q)
    assert len(cards) == N and len({c.id for c in cards}) == N
    keys = {
        "days": [(c.stage_entered_at, c.id) for c in cards],
        "value": [(-c.amount, c.id) for c in cards],
        "name": [(c.customer_name, c.id) for c in cards],
    }[sort]
    if sort == "value":
        assert [c.amount for c in cards] == sorted((c.amount for c in cards), reverse=True)
    else:
        assert keys == sorted(keys)
    # from the end, by offset, and backwards from a card all agree with the walk
    assert board.page(session, new, q, from_end=True, limit=50) == cards[-50:]
    assert board.page(session, new, q, offset=120, limit=30) == cards[120:150]
    assert board.page(session, new, q, before=cards[200], limit=100) == cards[100:200]
    assert board.position(session, cards[137], q) == 137


def test_days_sort_is_oldest_first(session: Session, filled) -> None:
    first = board.page(session, filled["stages"]["New"], query(filled), limit=2)
    assert first[0].stage_entered_at == days_before(30)


def test_columns_total_and_filter(session: Session, filled) -> None:
    cols = board.columns(session, query(filled))
    assert [c.name for c in cols][:3] == ["New", "Site Visit Scheduled", "Proposal Sent"]
    new = cols[0]
    assert new.count == N
    assert new.weighted_value == (new.total_value * new.probability / 100).quantize(Decimal("0.01"))
    assert cols[1].count == 0 and cols[1].total_value == 0
    mine = board.columns(session, query(filled, owner_id=filled["ann"].id))
    assert mine[0].count == N // 2 and mine[2].count == 1
    named = board.columns(session, query(filled, text="customer 00"))
    assert named[0].count == 10  # "Customer 000" .. "Customer 009"
    # LIKE wildcards typed by the user are literal characters
    assert board.columns(session, query(filled, text="%"))[0].count == 0
    assert board.columns(session, query(filled, text="_"))[0].count == 0


def move(engine: Engine, actor: Actor, card: board.Card, to, **kw) -> board.Move:
    with session_scope(engine) as s:
        return board.move(
            s, actor, card.id, expected_version=card.version, to_stage_id=to, now=FIXED_NOW, **kw
        )


def test_move_updates_stage_history_and_version(engine: Engine, filled) -> None:
    stages = filled["stages"]
    with Session(engine) as s:
        card = board.page(s, stages["New"], query(filled), limit=1)[0]
    moved = move(engine, filled["ann"], card, stages["Site Visit Scheduled"])
    assert moved.card.stage_id == stages["Site Visit Scheduled"]
    assert moved.card.version == card.version + 1
    assert moved.card.stage_entered_at == FIXED_NOW
    with Session(engine) as s:
        history = s.exec(
            select(EstimateStageHistory).where(EstimateStageHistory.estimate_id == card.id)
        ).all()
        assert [(h[0].from_stage_name, h[0].to_stage_name, h[0].moved_by) for h in history] == [
            ("New", "Site Visit Scheduled", filled["ann"].id)
        ]
        assert s.get(Estimate, card.id).updated_by == filled["ann"].id


def test_won_accepts_estimate_and_activates_lead(engine: Engine, filled) -> None:
    with Session(engine) as s:
        card = board.get_card(s, filled["lead_estimate"])
    moved = move(engine, filled["ann"], card, filled["stages"]["Won"])
    assert moved.customer_activated
    with Session(engine) as s:
        assert s.get(Estimate, card.id).status == EstimateStatus.accepted
        assert s.get(Customer, filled["lead_customer"]).status == CustomerStatus.active
        feed = activity.recent_activity(s, 10, customer_id=filled["lead_customer"])
        kinds = [i.kind for i in feed]
        assert activity.ActivityKind.status_change in kinds  # on the customer's timeline
        assert activity.ActivityKind.stage_move in kinds


def test_lost_needs_a_reason_and_keeps_it(engine: Engine, filled) -> None:
    with Session(engine) as s:
        card = board.get_card(s, filled["lead_estimate"])
    with pytest.raises(board.LostReasonRequired):
        move(engine, filled["ann"], card, filled["stages"]["Lost"])
    with pytest.raises(board.LostReasonRequired):
        move(engine, filled["ann"], card, filled["stages"]["Lost"], lost_reason="   ")
    with Session(engine) as s:  # nothing was written by the refused moves
        assert s.get(Estimate, card.id).version == card.version
    moved = move(
        engine, filled["ann"], card, filled["stages"]["Lost"], lost_reason="Price too high"
    )
    with Session(engine) as s:
        est = s.get(Estimate, card.id)
        assert (est.status, est.lost_reason) == (EstimateStatus.declined, "Price too high")
        assert s.get(Customer, filled["lead_customer"]).status == CustomerStatus.lead
    # leaving Lost clears the reason
    move(engine, filled["ann"], moved.card, filled["stages"]["Negotiation"])
    with Session(engine) as s:
        assert s.get(Estimate, card.id).lost_reason is None


def test_two_sessions_move_the_same_estimate_exactly_one_wins(engine: Engine, filled) -> None:
    stages = filled["stages"]
    with Session(engine) as s:
        card = board.get_card(s, filled["lead_estimate"])
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def attempt(who: str, target) -> None:
        actor = filled[who]
        try:
            with session_scope(engine) as s:
                barrier.wait()
                outcomes[who] = board.move(
                    s,
                    actor,
                    card.id,
                    expected_version=card.version,
                    to_stage_id=target,
                    now=FIXED_NOW,
                )
        except board.MoveConflict as exc:
            outcomes[who] = exc

    threads = [
        threading.Thread(target=attempt, args=("ann", stages["Negotiation"])),
        threading.Thread(target=attempt, args=("bob", stages["Site Visit Scheduled"])),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [w for w, o in outcomes.items() if isinstance(o, board.Move)]
    losers = [o for o in outcomes.values() if isinstance(o, board.MoveConflict)]
    assert len(winners) == 1 and len(losers) == 1
    winner = filled[winners[0]]
    assert winner.name in str(losers[0]) and "Nothing was overwritten" in str(losers[0])
    assert losers[0].card.version == card.version + 1  # the card as it is now
    with Session(engine) as s:
        moves = s.exec(
            select(EstimateStageHistory).where(EstimateStageHistory.estimate_id == card.id)
        ).all()
        assert len(moves) == 1


def test_undo_puts_back_stage_and_entry_time(engine: Engine, filled) -> None:
    with Session(engine) as s:
        card = board.get_card(s, filled["lead_estimate"])
    moved = move(engine, filled["ann"], card, filled["stages"]["Lost"], lost_reason="Timing")
    again = move(engine, filled["ann"], moved.card, filled["stages"]["Negotiation"])
    with session_scope(engine) as s:
        back = board.undo(s, filled["ann"], again, now=FIXED_NOW)
    assert back.card.stage_id == filled["stages"]["Lost"]
    assert back.card.lost_reason == "Timing"  # the old reason, not asked again
    # undoing a move someone else has since overtaken is refused
    with pytest.raises(board.MoveConflict), session_scope(engine) as s:
        board.undo(s, filled["ann"], moved, now=FIXED_NOW)
    with session_scope(engine) as s:
        first = board.undo(s, filled["ann"], back, now=FIXED_NOW)
    assert first.card.stage_id == filled["stages"]["Negotiation"]


def test_move_notifies_other_listeners_on_commit_only(engine: Engine, filled) -> None:
    with psycopg.connect(live.conninfo(engine.url), autocommit=True) as listener:
        listener.execute(f"LISTEN {board.BOARD_CHANNEL}")
        with Session(engine) as s:
            card = board.get_card(s, filled["lead_estimate"])
        # a move that fails (no lost reason) says nothing
        with pytest.raises(board.LostReasonRequired):
            move(engine, filled["ann"], card, filled["stages"]["Lost"])
        assert list(listener.notifies(timeout=0.3)) == []
        move(engine, filled["ann"], card, filled["stages"]["Negotiation"], origin="term-1")
        heard = list(listener.notifies(timeout=1, stop_after=1))
    change = board.BoardChange.from_json(heard[0].payload)
    assert change is not None
    assert (change.pipeline_id, change.estimate_id, change.by, change.origin) == (
        filled["pipeline"],
        card.id,
        filled["ann"].id,
        "term-1",
    )
    # what an open board patches from: the card's stages, version and value
    assert (change.kind, change.from_stage_id, change.to_stage_id, change.version) == (
        "card",
        card.stage_id,
        filled["stages"]["Negotiation"],
        card.version + 1,
    )
    assert change.amount_before == change.amount == card.amount
    assert board.BoardChange.from_json("not json") is None


def test_freshness_and_sort_order() -> None:
    assert board.freshness(0, 10) is board.Freshness.fresh
    assert board.freshness(7, 10) is board.Freshness.fresh
    assert board.freshness(8, 10) is board.Freshness.near
    assert board.freshness(10, 10) is board.Freshness.rotting
    assert board.freshness(400, None) is board.Freshness.fresh
    assert board.next_sort("name") == "days"


# --- issue 15: next step from tasks, the closing-this-month and unassigned filters, the forecast
# by expected close month ----------------------------------------------------------------------


def test_a_cards_next_step_is_its_customers_soonest_open_task(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as s:
        ann = add_user(s, "ann", name="Ann Lee", role=UserRole.manager)
        new = stages_of(s, "Residential Replacements")["New"]
        busy = add_customer(s, "Busy Co")
        idle = add_customer(s, "Idle Co")
        deal = add_estimate(s, busy, new, 100, owner=ann)
        bare = add_estimate(s, idle, new, 100, owner=ann)
        # done tasks and later ones do not count; one for the deal is the customer's too
        add_task(s, busy, "Done long ago", due_at=days_before(9), done_at=days_before(8))
        add_task(s, busy, "Send the quote", due_at=FIXED_NOW + timedelta(days=3), estimate=deal)
        add_task(s, busy, "Call back", due_at=FIXED_NOW + timedelta(days=1))
        add_task(s, idle, "Done", due_at=days_before(1), done_at=days_before(1))
        s.commit()
        shown = board.get_card(s, deal.id)
        assert (shown.next_task, shown.next_task_due) == (
            "Call back",
            FIXED_NOW + timedelta(days=1),
        )
        assert shown.has_next_step
        none = board.get_card(s, bare.id)
        assert (none.next_task, none.next_task_due, none.has_next_step) == (None, None, False)


@pytest.fixture
def dated(engine: Engine) -> dict[str, object]:
    """Residential deals with expected close dates around November 2026 (the test clock's
    month in Chicago), some unassigned, and a pipeline query for them."""
    with Session(engine, expire_on_commit=False) as s:
        ann = add_user(s, "ann", name="Ann Lee", role=UserRole.manager, n=1)
        stages = stages_of(s, "Residential Replacements")
        rows = [
            # stage, amount, close date, owned
            ("New", 1000, date(2026, 11, 1), True),
            ("New", 2000, date(2026, 11, 30), False),
            ("New", 4000, date(2026, 10, 31), True),  # overdue
            ("Proposal Sent", 8000, date(2026, 11, 24), False),  # today
            ("Proposal Sent", 16000, date(2026, 12, 1), True),
            ("Negotiation", 32000, date(2027, 4, 15), False),  # 5 months on
            ("Negotiation", 64000, date(2027, 5, 1), True),  # later
            ("Negotiation", 500, None, False),  # no date
            ("Won", 128000, date(2026, 11, 10), True),  # decided: no forecast
        ]
        for i, (stage, amount, close, owned) in enumerate(rows, 1):
            customer = add_customer(s, f"Dated {i}", n=i)
            estimate = add_estimate(
                s, customer, stages[stage], amount, owner=ann if owned else None, n=i
            )
            estimate.expected_close_on = close
        s.commit()
        return {
            "pipeline": pipeline_by_name(s, "Residential Replacements").id,
            "ann": ann.id,
            "stages": {name: st.id for name, st in stages.items()},
        }


def counts(session: Session, q: board.BoardQuery) -> dict[str, tuple[int, Decimal]]:
    return {c.name: (c.count, c.total_value) for c in board.columns(session, q) if c.count}


def test_closing_this_month_and_unassigned_filter_cards_and_totals(session: Session, dated) -> None:
    everything = board.BoardQuery(pipeline_id=dated["pipeline"])
    assert sum(n for n, _ in counts(session, everything).values()) == 9
    closing = replace(everything, closing_in=date(2026, 11, 1))
    assert counts(session, closing) == {
        "New": (2, Decimal("3000.00")),
        "Proposal Sent": (1, Decimal("8000.00")),
        "Won": (1, Decimal("128000.00")),
    }
    assert closing.filtered and not everything.filtered
    unassigned = replace(everything, unassigned=True)
    assert unassigned.owners == "unassigned"
    assert counts(session, unassigned) == {
        "New": (1, Decimal("2000.00")),
        "Proposal Sent": (1, Decimal("8000.00")),
        "Negotiation": (2, Decimal("32500.00")),
    }
    both = replace(closing, unassigned=True)
    assert counts(session, both) == {
        "New": (1, Decimal("2000.00")),
        "Proposal Sent": (1, Decimal("8000.00")),
    }
    # the cards agree with the totals, and a card's place is counted under the same filter
    cards = board.page(session, dated["stages"]["New"], both)
    assert [c.amount for c in cards] == [Decimal("2000.00")]
    assert cards[0].expected_close_on == date(2026, 11, 30)
    assert board.position(session, cards[0], both) == 0
    mine = replace(everything, owner_id=dated["ann"])
    assert mine.owners == "mine"
    assert sum(n for n, _ in counts(session, mine).values()) == 5


def test_forecast_by_close_month_matches_a_hand_count(session: Session, dated) -> None:
    months = forecast.close_months(
        session, dated["pipeline"], now=FIXED_NOW, tz=ZoneInfo("America/Chicago")
    )
    shown = [
        (m.bucket.value, m.month.isoformat() if m.month else None, m.count, m.value, m.weighted)
        for m in months
    ]
    # probabilities: New 10%, Proposal Sent 50%, Negotiation 75% (the default pipeline)
    assert shown == [
        ("overdue", None, 2, Decimal("5000.00"), Decimal("500.00")),  # Oct 31, Nov 1
        ("month", "2026-11-01", 2, Decimal("10000.00"), Decimal("4200.00")),  # today on
        ("month", "2026-12-01", 1, Decimal("16000.00"), Decimal("8000.00")),
        ("month", "2027-01-01", 0, Decimal(0), Decimal(0)),
        ("month", "2027-02-01", 0, Decimal(0), Decimal(0)),
        ("month", "2027-03-01", 0, Decimal(0), Decimal(0)),
        ("month", "2027-04-01", 1, Decimal("32000.00"), Decimal("24000.00")),
        ("later", None, 1, Decimal("64000.00"), Decimal("48000.00")),
        ("undated", None, 1, Decimal("500.00"), Decimal("375.00")),
    ]
    # the buckets add up to the open stages' figures
    stages = forecast.stage_figures(
        session, dated["pipeline"], now=FIXED_NOW, tz=ZoneInfo("America/Chicago")
    )
    assert sum(m.count for m in months) == sum(s.count for s in stages) == 8
    assert sum(m.weighted for m in months) == sum(s.weighted for s in stages)
    # the month turns in the business time zone: 03:00 UTC on Dec 1 is still November there
    late = forecast.close_months(
        session,
        dated["pipeline"],
        now=datetime(2026, 12, 1, 3, 0, tzinfo=UTC),
        tz=ZoneInfo("America/Chicago"),
    )
    assert late[1].month == date(2026, 11, 1) and late[1].count == 1  # only Nov 30 left
    assert late[0].count == 3  # Oct 31, Nov 1 and Nov 24 are now overdue
