"""Leads: customers with status `lead`, in the order a rep should work them.

The inbox order (never contacted first, then the least recently contacted, newest lead first
among equals) is exactly the partial index `ix_customers_inbox`, so the first page is an index
scan with a LIMIT however many customers there are.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session

from .db.models import Customer, CustomerStatus, User

INBOX_PAGE = 200


@dataclass(frozen=True)
class LeadRow:
    id: uuid.UUID
    name: str
    lead_source: str | None
    created_at: datetime
    last_interaction_at: datetime | None
    next_step_at: datetime | None
    owner_name: str | None
    phone: str | None


def lead_count(session: Session) -> int:
    """How many leads there are (an index-only count over the inbox's partial index)."""
    stmt = (
        sa.select(sa.func.count())
        .select_from(Customer)
        .where(Customer.status == CustomerStatus.lead)
    )
    return session.execute(stmt).scalar_one()


def first_leads(session: Session, limit: int = INBOX_PAGE) -> list[LeadRow]:
    """The top of the leads inbox: never-contacted first, newest first."""
    owner = aliased(User)
    stmt = (
        sa.select(
            Customer.id,
            Customer.name,
            Customer.lead_source,
            Customer.created_at,
            Customer.last_interaction_at,
            Customer.next_step_at,
            owner.name.label("owner_name"),
            Customer.phone,
        )
        .select_from(Customer)
        .outerjoin(owner, owner.id == Customer.owner_id)
        .where(Customer.status == CustomerStatus.lead)
        # Same order as ix_customers_inbox; id only breaks exact ties so pages are stable.
        .order_by(
            Customer.last_interaction_at.asc().nulls_first(),
            Customer.created_at.desc(),
            Customer.id,
        )
        .limit(limit)
    )
    return [LeadRow(**row._mapping) for row in session.execute(stmt)]
