"""Tickets from the operations side: closing one (the demo, and operations systems that call us)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from ..base import validation
from ..base.errors import NotFound, UserError
from ..db.models import Ticket, TicketStatus

NUMBER_MAX = 2**63 - 1  # ticket numbers are bigint


def close(session: Session, number: int, *, resolution: str, now: datetime) -> Ticket:
    """Close ticket `number` with a resolution. "Equipment End of Life" makes the upsell sync
    open a replacement opportunity (once per ticket, however often it is closed)."""
    text = validation.require_text(resolution, "resolution", max_len=500)
    if not 1 <= number <= NUMBER_MAX:  # beyond the column: no such ticket, not a driver error
        raise NotFound(f"no ticket #{number}")
    ticket = session.execute(
        sa.select(Ticket).where(Ticket.number == number).with_for_update()
    ).scalar_one_or_none()
    if ticket is None:
        raise NotFound(f"no ticket #{number}")
    if ticket.status in (TicketStatus.closed, TicketStatus.cancelled):
        raise UserError(f"ticket #{number} is already {ticket.status.value}")
    ticket.status = TicketStatus.closed
    ticket.resolution = text
    ticket.closed_at = now
    session.flush()
    return ticket
