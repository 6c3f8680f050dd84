"""The board's domain rules against real PostgreSQL: paging, totals, moves, automations, locks."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import psycopg
import pytest
from factories import (
    FIXED_NOW,
    add_customer,
    add_estimate,
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
from salesengine_tui.deals import board

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
    assert change == board.BoardChange(
        pipeline_id=filled["pipeline"], estimate_id=card.id, by=filled["ann"].id, origin="term-1"
    )
    assert board.BoardChange.from_json("not json") is None


def test_freshness_and_initials() -> None:
    assert board.freshness(0, 10) is board.Freshness.fresh
    assert board.freshness(7, 10) is board.Freshness.fresh
    assert board.freshness(8, 10) is board.Freshness.near
    assert board.freshness(10, 10) is board.Freshness.rotting
    assert board.freshness(400, None) is board.Freshness.fresh
    assert board.initials("Morgan Avery") == "MA"
    assert board.initials("Cher") == "C"
    assert board.initials(None) == ""
    assert board.next_sort("name") == "days"
