"""What happens when a deal enters a stage: Won, Lost or an open one.

- Won: the estimate is accepted, and a lead customer becomes active (`activate_leads`, the one
  rule for a lead becoming active). A deal worth $0, or whose value is the system's guess
  (`amount_estimated`), does not enter Won until a person gives (or confirms) its value:
  `ValueRequired` asks for it, and the move is made again with the value. A rep who wins an
  unassigned deal is credited with it (it becomes theirs); a manager's win leaves it unassigned
  (the board warns: nobody is credited until it is assigned).
- Lost: a reason is required (500 characters at most); the estimate is declined and keeps it.
- An open stage: the estimate is sent, and any old lost reason is cleared.

Every entry restarts the stage clock (`stage_entered_at`), which days in stage, rotting and a
stage's follow-up rule (the jobs runner's nurture) count from.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlmodel import Session

from ..access.users import Actor
from ..base.errors import UserError
from ..base.validation import check_money
from ..customers.status import activate_leads
from ..db.models import DealStage, EstimateStatus, UserRole

LOST_REASON_MAX = 500


class LostReasonRequired(UserError):
    pass


class ValueRequired(UserError):
    """Entering a Won stage needs the deal's value from a person first: the deal is at $0, or
    its value is an estimate to confirm (`estimated`; `amount` is then the guess to offer)."""

    def __init__(self, stage_name: str, amount: Decimal, *, estimated: bool) -> None:
        if estimated:
            message = f"the value is an estimate: confirm or correct it to move to {stage_name}"
        else:
            message = f"moving to {stage_name} needs the deal's value (it is $0)"
        super().__init__(message)
        self.stage_name = stage_name
        self.amount = amount
        self.estimated = estimated


def value_on_entry(
    stage: DealStage, amount: Decimal, estimated: bool, given: Decimal | None
) -> Decimal | None:
    """The value a deal entering `stage` is given: `given` (a person typed it), else None (it
    keeps its value). Won refuses $0 and asks first when the value is $0 or an estimate."""
    if given is not None:
        given = check_money(given)
        if stage.is_won and given <= 0:
            raise UserError(f"a deal in {stage.name} needs a value above $0")
        return given
    if stage.is_won and (amount <= 0 or estimated):
        raise ValueRequired(stage.name, amount, estimated=estimated and amount > 0)
    return None


def owner_on_entry(stage: DealStage, owner_id: uuid.UUID | None, actor: Actor) -> uuid.UUID | None:
    """Who a deal entering `stage` is credited to, when that changes (None: it does not): a rep
    who wins an unassigned deal. A manager's win stays unassigned (they are not the seller)."""
    if stage.is_won and owner_id is None and actor.role is UserRole.rep:
        return actor.id
    return None


def lost_reason_for(stage: DealStage, reason: str | None) -> str | None:
    """The reason an estimate entering `stage` keeps: required for Lost, None otherwise."""
    reason = (reason or "").strip() or None
    if stage.is_lost and reason is None:
        raise LostReasonRequired(f"moving to {stage.name} needs a lost reason")
    if reason is not None and len(reason) > LOST_REASON_MAX:
        raise UserError(f"the lost reason is too long ({LOST_REASON_MAX} characters at most)")
    return reason if stage.is_lost else None


def status_in(stage: DealStage) -> EstimateStatus:
    """The estimate's status once in `stage`."""
    if stage.is_won:
        return EstimateStatus.accepted
    if stage.is_lost:
        return EstimateStatus.declined
    return EstimateStatus.sent


def entered(
    session: Session, stage: DealStage, customer_id: uuid.UUID, *, by: uuid.UUID, at: datetime
) -> bool:
    """Run what entering `stage` sets off for the deal's customer; True when a lead became an
    active customer (a win)."""
    if not stage.is_won:
        return False
    return bool(activate_leads(session, [customer_id], by=by, at=at, reason=f"won: {stage.name}"))
