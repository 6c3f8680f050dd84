"""Moving a card on the board, undoing a move, and giving a deal another owner.

A move is one transaction: optimistic lock (the version the board saw), a history row, what
entering the stage sets off (`won_lost`), and a NOTIFY so every open board repaints.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from ..access import permissions
from ..access.users import Actor
from ..base.errors import NotFound, UserError
from ..db.models import DealStage, Estimate, EstimateStageHistory, User, UserRole
from . import won_lost
from .board_changes import BoardChange, notify_change
from .cards import Card, get_card
from .won_lost import LostReasonRequired

__all__ = ["LostReasonRequired", "Move", "MoveConflict", "move", "reassign", "undo"]


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


def move(
    session: Session,
    actor: Actor,
    estimate_id: uuid.UUID,
    *,
    expected_version: int,
    to_stage_id: uuid.UUID,
    now: datetime,
    lost_reason: str | None = None,
    entered_at: datetime | None = None,
    origin: str = "",
) -> Move:
    """Move an estimate to a stage of its pipeline, in the caller's transaction.

    `expected_version` is the version the caller saw: if the estimate changed since, nothing
    is written and MoveConflict names who changed it. `entered_at` overrides the stage-entry
    time (undo restores the old one). What entering the stage sets off (Won, Lost, the
    follow-up clock) is `won_lost`'s.
    """
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
        )
        .outerjoin(DealStage, DealStage.id == Estimate.stage_id)
        .where(Estimate.id == estimate_id)
    ).one_or_none()
    if current is None:
        raise NotFound("that estimate no longer exists (deleted by someone else)")
    permissions.require_deal(session, actor, current.owner_id)
    if current.pipeline_id is not None and current.pipeline_id != target.pipeline_id:
        raise UserError("an estimate moves between stages of its own pipeline only")

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
    activated = won_lost.entered(session, target, current.customer_id, by=actor.id, at=now)
    session.flush()
    notify_change(
        session,
        BoardChange(
            pipeline_id=target.pipeline_id, estimate_id=estimate_id, by=actor.id, origin=origin
        ),
    )
    return Move(
        card=get_card(session, estimate_id),
        pipeline_id=target.pipeline_id,
        from_stage_id=current.stage_id,
        from_stage_name=current.name,
        to_stage_name=target.name,
        previous_entered_at=current.stage_entered_at,
        previous_lost_reason=current.lost_reason,
        customer_activated=activated,
    )


def undo(session: Session, actor: Actor, last: Move, *, now: datetime, origin: str = "") -> Move:
    """Put the estimate back where `last` took it from, with its old entry time and reason.

    Another move of its own (it goes in the history), guarded by the version `last` left."""
    if last.from_stage_id is None:
        raise UserError("that estimate was not on the board before; nothing to undo")
    return move(
        session,
        actor,
        last.card.id,
        expected_version=last.card.version,
        to_stage_id=last.from_stage_id,
        now=now,
        lost_reason=last.previous_lost_reason,
        entered_at=last.previous_entered_at,
        origin=origin,
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
    notify_change(session, BoardChange(row[0], estimate_id, actor.id, origin))
    return name
