"""Moving a card on the board, undoing a move, and giving a deal another owner.

A move is one transaction: optimistic lock (the version the board saw), a history row, what
entering the stage sets off (`won_lost`: the value Won asks for, the rep credited with a win),
the deal's change rows for a value or owner the move set, and a NOTIFY so every open board
repaints. Undo is the move never made: stage, entry time and reason, and a value or owner the
move set, all put back (each in the history again).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session

from ..access import permissions
from ..access.users import Actor
from ..base.errors import NotFound, UserError
from ..db.models import (
    DealStage,
    Estimate,
    EstimateChange,
    EstimateStageHistory,
    User,
    UserRole,
)
from . import won_lost
from .board_changes import card_change, notify_change
from .cards import Card, get_card
from .won_lost import LostReasonRequired, ValueRequired

__all__ = [
    "LostReasonRequired",
    "Move",
    "MoveConflict",
    "ValueRequired",
    "move",
    "reassign",
    "undo",
]


class MoveConflict(UserError):
    """The estimate changed since the board read it; nothing was written."""

    def __init__(self, message: str, card: Card) -> None:
        super().__init__(message)
        self.card = card


@dataclass(frozen=True)
class Move:
    """A move that happened: enough to show it, tell other boards, and undo it."""

    card: Card  # the estimate after the move
    pipeline_id: uuid.UUID
    from_stage_id: uuid.UUID | None
    from_stage_name: str | None
    to_stage_name: str
    # What the estimate had before, so undo puts it back exactly.
    previous_entered_at: datetime | None
    previous_lost_reason: str | None
    customer_activated: bool = False
    # The value before, when the move set one (Won asked for it); undo puts it back.
    previous_amount: Decimal | None = None
    previous_amount_estimated: bool = False
    credited: bool = False  # the mover became the owner (a rep won an unassigned deal)
    unowned_win: bool = False  # won with no owner: nobody is credited until it is assigned

    @property
    def value_set(self) -> bool:
        return self.previous_amount is not None


def _conflict(session: Session, estimate_id: uuid.UUID) -> MoveConflict:
    card = get_card(session, estimate_id)
    who_row = session.execute(
        sa.select(User.name, DealStage.name)
        .select_from(Estimate)
        .outerjoin(User, User.id == Estimate.updated_by)
        .outerjoin(DealStage, DealStage.id == Estimate.stage_id)
        .where(Estimate.id == estimate_id)
    ).one()
    who, stage = who_row
    return MoveConflict(
        f"{who or 'someone else'} changed this estimate first; it is now in {stage}. "
        "Nothing was overwritten.",
        card,
    )


def value_text(amount: Decimal | None, *, estimated: bool = False) -> str | None:
    """A value as the deal's history shows it: `$1,250.50`, `$4,200 (estimate)`."""
    if amount is None:
        return None
    cents = amount.quantize(Decimal("0.01"))
    text = f"${cents:,.2f}".removesuffix(".00")
    return f"{text} (estimate)" if estimated else text


def _owner_text(session: Session, owner_id: uuid.UUID | None) -> str | None:
    if owner_id is None:
        return None
    return session.execute(sa.select(User.name).where(User.id == owner_id)).scalar_one_or_none()


def _changed(
    session: Session,
    actor: Actor,
    estimate_id: uuid.UUID,
    customer_id: uuid.UUID,
    field: str,
    old: str | None,
    new: str | None,
    now: datetime,
) -> None:
    """One row of the deal's history (and the customer's timeline) for a field a move set."""
    session.add(
        EstimateChange(
            estimate_id=estimate_id,
            customer_id=customer_id,
            field=field,
            old_value=old,
            new_value=new,
            changed_by=actor.id,
            changed_at=now,
        )
    )


def move(
    session: Session,
    actor: Actor,
    estimate_id: uuid.UUID,
    *,
    expected_version: int,
    to_stage_id: uuid.UUID,
    now: datetime,
    lost_reason: str | None = None,
    amount: Decimal | None = None,
    entered_at: datetime | None = None,
    origin: str = "",
) -> Move:
    """Move an estimate to a stage of its pipeline, in the caller's transaction.

    `expected_version` is the version the caller saw: if the estimate changed since, nothing
    is written and MoveConflict names who changed it. `entered_at` overrides the stage-entry
    time (undo restores the old one). What entering the stage sets off (Won, Lost, the
    follow-up clock) is `won_lost`'s: Won refuses a $0 or estimated value with ValueRequired
    (nothing written) until `amount` gives it; the value is then set in this transaction.
    """
    return _move(
        session,
        actor,
        estimate_id,
        expected_version=expected_version,
        to_stage_id=to_stage_id,
        now=now,
        lost_reason=lost_reason,
        amount=amount,
        entered_at=entered_at,
        origin=origin,
    )


def _move(
    session: Session,
    actor: Actor,
    estimate_id: uuid.UUID,
    *,
    expected_version: int,
    to_stage_id: uuid.UUID,
    now: datetime,
    lost_reason: str | None,
    amount: Decimal | None,
    entered_at: datetime | None,
    origin: str,
    undoing: Move | None = None,
) -> Move:
    """`move`, or (with `undoing`) the move that puts `undoing` back: Won's questions are not
    asked again, and the value and owner `undoing` set go back to what they were."""
    target = session.get(DealStage, to_stage_id)
    if target is None:
        raise NotFound("that stage no longer exists; refresh the board (r)")
    reason = won_lost.lost_reason_for(target, lost_reason)

    current = session.execute(
        sa.select(
            Estimate.stage_id,
            Estimate.stage_entered_at,
            Estimate.lost_reason,
            Estimate.customer_id,
            DealStage.pipeline_id,
            DealStage.name,
            Estimate.owner_id,
            Estimate.amount,
            Estimate.amount_estimated,
            Estimate.expected_close_on,
        )
        .outerjoin(DealStage, DealStage.id == Estimate.stage_id)
        .where(Estimate.id == estimate_id)
    ).one_or_none()
    if current is None:
        raise NotFound("that estimate no longer exists (deleted by someone else)")
    permissions.require_deal(session, actor, current.owner_id)
    if current.pipeline_id is not None and current.pipeline_id != target.pipeline_id:
        raise UserError("an estimate moves between stages of its own pipeline only")

    values: dict[str, object] = {}
    new_amount: Decimal | None = None
    new_owner: uuid.UUID | None = None
    if undoing is None:
        # Asked before the version check: the board asks, then moves again with the value.
        new_amount = won_lost.value_on_entry(
            target, current.amount, current.amount_estimated, amount
        )
        new_owner = won_lost.owner_on_entry(target, current.owner_id, actor)
        if new_amount is not None:
            values.update(amount=new_amount, amount_estimated=False)
        if new_owner is not None:
            values.update(owner_id=new_owner)
    else:
        if undoing.previous_amount is not None:
            new_amount = undoing.previous_amount
            values.update(amount=new_amount, amount_estimated=undoing.previous_amount_estimated)
        if undoing.credited:
            values.update(owner_id=None)

    updated = session.execute(
        sa.update(Estimate)
        .where(Estimate.id == estimate_id, Estimate.version == expected_version)
        .values(
            stage_id=target.id,
            stage_entered_at=entered_at or now,
            status=won_lost.status_in(target),
            lost_reason=reason,
            updated_at=now,
            updated_by=actor.id,
            version=Estimate.version + 1,
            **values,
        )
        .returning(Estimate.id)
    ).first()
    if updated is None:
        raise _conflict(session, estimate_id)

    session.add(
        EstimateStageHistory(
            estimate_id=estimate_id,
            from_stage_id=current.stage_id,
            to_stage_id=target.id,
            from_stage_name=current.name,
            to_stage_name=target.name,
            moved_by=actor.id,
            moved_at=now,
            lost_reason=reason,
        )
    )
    customer = current.customer_id
    estimated_after = bool(values.get("amount_estimated", False))
    value_changed = "amount" in values and (
        values["amount"] != current.amount or estimated_after != current.amount_estimated
    )
    if value_changed:
        _changed(
            session,
            actor,
            estimate_id,
            customer,
            "value",
            value_text(current.amount, estimated=current.amount_estimated),
            value_text(new_amount, estimated=estimated_after),
            now,
        )
    if "owner_id" in values:
        _changed(
            session,
            actor,
            estimate_id,
            customer,
            "owner",
            _owner_text(session, current.owner_id),
            _owner_text(session, new_owner),
            now,
        )
    activated = won_lost.entered(session, target, customer, by=actor.id, at=now)
    session.flush()
    card = get_card(session, estimate_id)
    change = card_change(target.pipeline_id, card, before=current, by=actor.id, origin=origin)
    notify_change(session, change)
    return Move(
        card=card,
        pipeline_id=target.pipeline_id,
        from_stage_id=current.stage_id,
        from_stage_name=current.name,
        to_stage_name=target.name,
        previous_entered_at=current.stage_entered_at,
        previous_lost_reason=current.lost_reason,
        customer_activated=activated,
        previous_amount=current.amount if value_changed else None,
        previous_amount_estimated=current.amount_estimated,
        credited=undoing is None and new_owner is not None,
        unowned_win=target.is_won and card.owner_id is None,
    )


def undo(session: Session, actor: Actor, last: Move, *, now: datetime, origin: str = "") -> Move:
    """Put the estimate back where `last` took it from, with its old entry time and reason,
    and the value and owner it had if `last` set them (undo is the move never made: a value
    typed for the wrong card must not stay on it).

    Another move of its own (it goes in the history), guarded by the version `last` left."""
    if last.from_stage_id is None:
        raise UserError("that estimate was not on the board before; nothing to undo")
    return _move(
        session,
        actor,
        last.card.id,
        expected_version=last.card.version,
        to_stage_id=last.from_stage_id,
        now=now,
        lost_reason=last.previous_lost_reason,
        amount=None,
        entered_at=last.previous_entered_at,
        origin=origin,
        undoing=last,
    )


def reassign(
    session: Session,
    actor: Actor,
    estimate_id: uuid.UUID,
    owner_id: uuid.UUID | None,
    *,
    expected_version: int,
    now: datetime,
    origin: str = "",
) -> str:
    """Give a deal a new owner (None: unassigned); managers only, guarded by the version the
    manager saw. Returns the new owner's name (or "nobody")."""
    permissions.require(actor, permissions.Action.reassign)
    name = "nobody"
    if owner_id is not None:
        owner = session.get(User, owner_id)
        if owner is None or not owner.active or owner.role not in (UserRole.rep, UserRole.manager):
            raise UserError("deals can be assigned to active reps and managers only")
        name = owner.name
    was = get_card(session, estimate_id)
    row = session.execute(
        sa.update(Estimate)
        .where(Estimate.id == estimate_id, Estimate.version == expected_version)
        .values(
            owner_id=owner_id, updated_by=actor.id, updated_at=now, version=Estimate.version + 1
        )
        .returning(DealStage.pipeline_id)
        .where(DealStage.id == Estimate.stage_id)
    ).first()
    if row is None:
        raise _conflict(session, estimate_id)
    after = get_card(session, estimate_id)
    notify_change(session, card_change(row[0], after, before=was, by=actor.id, origin=origin))
    return name
