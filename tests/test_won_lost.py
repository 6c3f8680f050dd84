"""Winning a deal against real PostgreSQL: Won asks for the value of a $0 deal and confirms an
estimated one, a rep who wins an unassigned deal is credited, and undo puts all of it back."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from factories import FIXED_NOW, add_customer, add_estimate, add_user, days_before, stages_of
from sqlalchemy import Engine, select
from sqlmodel import Session

from salesengine_tui.access.users import Actor
from salesengine_tui.base.errors import UserError
from salesengine_tui.db.engine import session_scope
from salesengine_tui.db.models import (
    Estimate,
    EstimateChange,
    EstimateStageHistory,
    EstimateStatus,
    UserRole,
)
from salesengine_tui.deals import board


@pytest.fixture
def deals(engine: Engine) -> dict[str, object]:
    """A manager, a rep, and four deals in Proposal Sent: $0 (the manager's), an estimated
    $4,200 (the rep's), an unassigned $9,000, an unassigned $0."""
    with Session(engine, expire_on_commit=False) as s:
        ann = add_user(s, "ann", name="Ann Lee", role=UserRole.manager, n=1)
        rita = add_user(s, "rita", name="Rita Rep", role=UserRole.rep, n=2)
        stages = stages_of(s, "Residential Replacements")
        proposal = stages["Proposal Sent"]

        def deal(name: str, amount: str, owner, n: int, *, estimated: bool = False) -> Estimate:
            customer = add_customer(s, name, n=n)
            estimate = add_estimate(
                s, customer, proposal, amount, owner=owner, entered_at=days_before(4), n=n
            )
            estimate.amount_estimated = estimated
            return estimate

        zero = deal("Zero Co", "0", ann, 1)
        guess = deal("Guess Co", "4200", rita, 2, estimated=True)
        nobody = deal("Nobody Co", "9000", None, 3)
        nobody_zero = deal("Nothing Co", "0", None, 4)
        s.commit()
        return {
            "ann": Actor.of(ann),
            "rita": Actor.of(rita),
            "stages": {name: st.id for name, st in stages.items()},
            "zero": zero.id,
            "guess": guess.id,
            "nobody": nobody.id,
            "nobody_zero": nobody_zero.id,
        }


def card(engine: Engine, estimate_id) -> board.Card:
    with Session(engine) as s:
        return board.get_card(s, estimate_id)


def move(engine: Engine, actor: Actor, c: board.Card, to, **kw) -> board.Move:
    with session_scope(engine) as s:
        return board.move(
            s, actor, c.id, expected_version=c.version, to_stage_id=to, now=FIXED_NOW, **kw
        )


def undo(engine: Engine, actor: Actor, last: board.Move) -> board.Move:
    """A minute after the move (so the history's order is the order of events)."""
    with session_scope(engine) as s:
        return board.undo(s, actor, last, now=FIXED_NOW + timedelta(minutes=1))


def changes(engine: Engine, estimate_id) -> list[tuple[str, str | None, str | None]]:
    with Session(engine) as s:
        rows = s.exec(
            select(EstimateChange)
            .where(EstimateChange.estimate_id == estimate_id)
            .order_by(EstimateChange.changed_at, EstimateChange.field, EstimateChange.old_value)
        ).all()
        return [(r[0].field, r[0].old_value, r[0].new_value) for r in rows]


def estimate(engine: Engine, estimate_id) -> Estimate:
    with Session(engine, expire_on_commit=False) as s:
        return s.get(Estimate, estimate_id)


def history(engine: Engine, estimate_id) -> int:
    with Session(engine) as s:
        q = select(EstimateStageHistory).where(EstimateStageHistory.estimate_id == estimate_id)
        return len(s.exec(q).all())


def test_a_zero_deal_enters_won_only_with_its_value(engine: Engine, deals) -> None:
    won = deals["stages"]["Won"]
    before = card(engine, deals["zero"])
    with pytest.raises(board.ValueRequired) as asked:
        move(engine, deals["ann"], before, won)
    assert (asked.value.amount, asked.value.estimated, asked.value.stage_name) == (0, False, "Won")
    with pytest.raises(UserError, match="above \\$0"):
        move(engine, deals["ann"], before, won, amount=Decimal("0"))
    with pytest.raises(UserError, match="two decimals"):
        move(engine, deals["ann"], before, won, amount=Decimal("1.005"))
    # nothing was written by the refused moves
    assert estimate(engine, deals["zero"]).version == before.version
    assert history(engine, deals["zero"]) == 0 and changes(engine, deals["zero"]) == []

    moved = move(engine, deals["ann"], before, won, amount=Decimal("4200.50"))
    assert moved.value_set and moved.previous_amount == 0 and not moved.credited
    row = estimate(engine, deals["zero"])
    assert (row.amount, row.amount_estimated, row.status) == (
        Decimal("4200.50"),
        False,
        EstimateStatus.accepted,
    )
    assert row.version == before.version + 1  # one write: the stage and the value together
    assert changes(engine, deals["zero"]) == [("value", "$0", "$4,200.50")]

    # Undo is the move never made: back in Proposal Sent, at $0, both in the history.
    back = undo(engine, deals["ann"], moved)
    row = estimate(engine, deals["zero"])
    assert back.card.stage_id == deals["stages"]["Proposal Sent"]
    assert (row.amount, row.status) == (0, EstimateStatus.sent)
    assert changes(engine, deals["zero"]) == [
        ("value", "$0", "$4,200.50"),
        ("value", "$4,200.50", "$0"),
    ]
    assert history(engine, deals["zero"]) == 2


def test_an_estimated_value_is_confirmed_on_won(engine: Engine, deals) -> None:
    won = deals["stages"]["Won"]
    before = card(engine, deals["guess"])
    assert before.amount_estimated
    with pytest.raises(board.ValueRequired) as asked:
        move(engine, deals["rita"], before, won)
    assert (asked.value.amount, asked.value.estimated) == (Decimal("4200.00"), True)
    # confirmed as it was: the mark goes, the value stays, and the history says so
    moved = move(engine, deals["rita"], before, won, amount=Decimal("4200"))
    row = estimate(engine, deals["guess"])
    assert (row.amount, row.amount_estimated) == (Decimal("4200.00"), False)
    assert changes(engine, deals["guess"]) == [("value", "$4,200 (estimate)", "$4,200")]
    assert not moved.card.amount_estimated
    back = undo(engine, deals["rita"], moved)
    assert back.card.amount_estimated and back.card.amount == Decimal("4200.00")


def test_open_stages_ask_nothing(engine: Engine, deals) -> None:
    before = card(engine, deals["zero"])
    moved = move(engine, deals["ann"], before, deals["stages"]["Negotiation"])
    assert moved.card.amount == 0 and not moved.value_set
    assert changes(engine, deals["zero"]) == []


def test_a_rep_who_wins_an_unassigned_deal_is_credited(engine: Engine, deals) -> None:
    rita = deals["rita"]
    before = card(engine, deals["nobody"])
    moved = move(engine, rita, before, deals["stages"]["Won"])
    assert moved.credited and not moved.unowned_win
    assert moved.card.owner_id == rita.id and moved.card.owner_name == "Rita Rep"
    assert changes(engine, deals["nobody"]) == [("owner", None, "Rita Rep")]
    back = undo(engine, rita, moved)
    assert back.card.owner_id is None  # undo gives the credit back too
    assert changes(engine, deals["nobody"])[-1] == ("owner", "Rita Rep", None)
    # an unassigned $0 deal: asked for the value first, then both set in one write
    zero = card(engine, deals["nobody_zero"])
    with pytest.raises(board.ValueRequired):
        move(engine, rita, zero, deals["stages"]["Won"])
    moved = move(engine, rita, zero, deals["stages"]["Won"], amount=Decimal("1250"))
    assert (moved.card.owner_id, moved.card.amount) == (rita.id, Decimal("1250.00"))
    assert moved.card.version == zero.version + 1
    assert sorted(changes(engine, deals["nobody_zero"])) == [
        ("owner", None, "Rita Rep"),
        ("value", "$0", "$1,250"),
    ]


def test_a_manager_who_wins_an_unassigned_deal_leaves_it_unassigned(engine: Engine, deals) -> None:
    before = card(engine, deals["nobody"])
    moved = move(engine, deals["ann"], before, deals["stages"]["Won"])
    assert moved.unowned_win and not moved.credited
    assert moved.card.owner_id is None
    assert changes(engine, deals["nobody"]) == []
    # not a win anywhere else: an open stage says nothing about owners
    again = move(engine, deals["ann"], moved.card, deals["stages"]["Negotiation"])
    assert not again.unowned_win and again.card.owner_id is None
