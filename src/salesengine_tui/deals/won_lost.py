"""What happens when a deal enters a stage: Won, Lost or an open one.

- Won: the estimate is accepted, and a lead customer becomes active (`activate_leads`, the one
  rule for a lead becoming active).
- Lost: a reason is required (500 characters at most); the estimate is declined and keeps it.
- An open stage: the estimate is sent, and any old lost reason is cleared.

Every entry restarts the stage clock (`stage_entered_at`), which days in stage, rotting and a
stage's follow-up rule (the jobs runner's nurture) count from.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Session

from ..base.errors import UserError
from ..customers.status import activate_leads
from ..db.models import DealStage, EstimateStatus

LOST_REASON_MAX = 500


class LostReasonRequired(UserError):
    pass


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
