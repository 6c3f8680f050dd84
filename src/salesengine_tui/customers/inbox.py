"""The leads inbox: customers with status `lead`, in the order a rep should work them, with
the filters and search the inbox offers.

The inbox order (never contacted first, then the least recently contacted, newest lead first
among equals) is the partial index `ix_customers_inbox`, so a page is an index scan with a
LIMIT however many customers there are. Plain functions over a Session; no Textual.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session

from ..db.models import Customer, CustomerStatus, User, UserRole
from ..db.text_search import contains

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
    email: str | None = None
    next_step: str | None = None
    owner_id: uuid.UUID | None = None
    version: int = 1


@dataclass(frozen=True)
class LeadQuery:
    """Which leads the inbox shows. `due_before` is "next step due" (set by the caller from
    its clock: the end of today where the business is)."""

    source: str | None = None
    owner_id: uuid.UUID | None = None
    not_contacted: bool = False
    due_before: datetime | None = None
    text: str = ""  # name, phone or email, anywhere, any case


def end_of_day(now: datetime, tz: ZoneInfo) -> datetime:
    """Midnight at the end of `now`'s day in the business time zone."""
    local = now.astimezone(tz)
    return (
        local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    ).astimezone(now.tzinfo)


def _conditions(query: LeadQuery) -> list[sa.ColumnElement[bool]]:
    where: list[sa.ColumnElement[bool]] = [Customer.status == CustomerStatus.lead]
    if query.source is not None:
        where.append(Customer.lead_source == query.source)
    if query.owner_id is not None:
        where.append(Customer.owner_id == query.owner_id)
    if query.not_contacted:
        where.append(Customer.last_interaction_at.is_(None))
    if query.due_before is not None:
        where.append(Customer.next_step_at < query.due_before)
    text = query.text.strip()
    if text:
        digits = "".join(ch for ch in text if ch.isdigit())
        matches = [
            contains(Customer.name, text),
            contains(Customer.email, text),
            contains(Customer.phone, text),
        ]
        if len(digits) >= 3:  # "(555) 01" finds "555-0101": compare digits only
            matches.append(
                sa.func.regexp_replace(Customer.phone, "[^0-9]", "", "g").contains(digits)
            )
        where.append(sa.or_(*matches))
    return where


def lead_count(session: Session, query: LeadQuery | None = None) -> int:
    """How many leads the query shows (an index-only count when unfiltered)."""
    stmt = (
        sa.select(sa.func.count()).select_from(Customer).where(*_conditions(query or LeadQuery()))
    )
    return session.execute(stmt).scalar_one()


_OWNER = aliased(User, name="owner")
_ORDER = (Customer.last_interaction_at.asc().nulls_first(), Customer.created_at.desc(), Customer.id)


def lead_page(
    session: Session,
    query: LeadQuery | None = None,
    *,
    offset: int = 0,
    limit: int = INBOX_PAGE,
    from_end: bool = False,
) -> list[LeadRow]:
    """Leads in inbox order (never contacted first, newest first); `from_end` reads the last
    `limit` (the `G` key). The order is the partial index `ix_customers_inbox`."""
    conditions = _conditions(query or LeadQuery())
    if from_end:
        total = session.execute(
            sa.select(sa.func.count()).select_from(Customer).where(*conditions)
        ).scalar_one()
        offset = max(0, total - limit)
    # Skip and limit on customers alone; the owner is joined to the page only.
    page = (
        sa.select(Customer.id).where(*conditions).order_by(*_ORDER).offset(offset).limit(limit)
    ).subquery()
    stmt = (
        sa.select(
            Customer.id,
            Customer.name,
            Customer.lead_source,
            Customer.created_at,
            Customer.last_interaction_at,
            Customer.next_step_at,
            _OWNER.name.label("owner_name"),
            Customer.phone,
            Customer.email,
            Customer.next_step,
            Customer.owner_id,
            Customer.version,
        )
        .join(page, page.c.id == Customer.id)
        .outerjoin(_OWNER, _OWNER.id == Customer.owner_id)
        .order_by(*_ORDER)
    )
    return [LeadRow(**row._mapping) for row in session.execute(stmt)]


def first_leads(session: Session, limit: int = INBOX_PAGE) -> list[LeadRow]:
    """The top of the leads inbox: never-contacted first, newest first."""
    return lead_page(session, limit=limit)


def lead_sources(session: Session, limit: int = 50) -> list[str]:
    """Known lead sources, most used first (for filters and forms)."""
    stmt = (
        sa.select(Customer.lead_source)
        .where(Customer.lead_source.is_not(None))
        .group_by(Customer.lead_source)
        .order_by(sa.func.count().desc(), Customer.lead_source)
        .limit(limit)
    )
    return [row[0] for row in session.execute(stmt)]


@dataclass(frozen=True)
class Person:
    id: uuid.UUID
    name: str


def assignable_users(session: Session) -> list[Person]:
    """Active reps and managers, by name."""
    stmt = (
        sa.select(User.id, User.name)
        .where(User.active, User.role.in_([UserRole.rep, UserRole.manager]))
        .order_by(User.name)
    )
    return [Person(*row) for row in session.execute(stmt)]
