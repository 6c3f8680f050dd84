"""The leads inbox: customers with status `lead` (or, with the status filter, the active, the
churned or every customer), in the order a rep should work them, with the filters and search
the inbox offers.

The inbox order (never contacted first, then the least recently contacted, newest first among
equals) is the partial index `ix_customers_inbox` for leads and `ix_customers_status_inbox`
(status first) for the other statuses and for everyone, so a page is an index scan with a
LIMIT however many customers there are. "Next step" is the customer's soonest open task
(`tasks.queries`). Plain functions over a Session; no Textual.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session

from ..db.models import Customer, CustomerStatus, Task, User, UserRole
from ..db.text_search import contains, phone_like, phone_matches
from ..tasks.queries import has_open_task_sql, next_task_due_sql, next_task_title_sql

INBOX_PAGE = 200


@dataclass(frozen=True)
class LeadRow:
    id: uuid.UUID
    name: str
    lead_source: str | None
    created_at: datetime
    last_interaction_at: datetime | None
    next_task_at: datetime | None  # the soonest open task's due time
    owner_name: str | None
    phone: str | None  # E.164 (`phones.phone_display` shows it)
    email: str | None = None
    phone_ext: str | None = None
    next_task_title: str | None = None
    owner_id: uuid.UUID | None = None
    version: int = 1
    status: CustomerStatus = CustomerStatus.lead


@dataclass(frozen=True)
class LeadQuery:
    """Which customers the inbox shows. `status` None is every customer. `due_before` is
    "next step due": an open task due before it (set by the caller from its clock: the end of
    today where the business is)."""

    status: CustomerStatus | None = CustomerStatus.lead
    source: str | None = None
    owner_id: uuid.UUID | None = None
    not_contacted: bool = False
    due_before: datetime | None = None
    # Name or email anywhere, any case; a phone number by its start or end, any punctuation.
    text: str = ""


def end_of_day(now: datetime, tz: ZoneInfo) -> datetime:
    """Midnight at the end of `now`'s day in the business time zone."""
    local = now.astimezone(tz)
    return (
        local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    ).astimezone(now.tzinfo)


def _conditions(query: LeadQuery) -> list[sa.ColumnElement[bool]]:
    where: list[sa.ColumnElement[bool]] = []
    if query.status is not None:
        where.append(Customer.status == query.status)
    if query.source is not None:
        where.append(Customer.lead_source == query.source)
    if query.owner_id is not None:
        where.append(Customer.owner_id == query.owner_id)
    if query.not_contacted:
        where.append(Customer.last_interaction_at.is_(None))
    if query.due_before is not None:
        # The soonest open task is due before then: some open task is (a semi-join, not the
        # soonest's subquery per customer: 0.2 s against 2 s for the count at 1M customers).
        where.append(has_open_task_sql(Customer.id).where(Task.due_at < query.due_before))
    text = query.text.strip()
    if phone_like(text):
        # "(972) 653-2552" finds +19726532552: the search's phone rule (an index range scan
        # from either end of the number), not the characters as typed.
        where.append(phone_matches(Customer.phone, text))
    elif text:
        where.append(
            sa.or_(
                contains(Customer.name, text),
                contains(Customer.email, text),
                contains(Customer.phone, text),
            )
        )
    return where


def lead_count(session: Session, query: LeadQuery | None = None) -> int:
    """How many customers the query shows (an index-only count when unfiltered)."""
    stmt = (
        sa.select(sa.func.count()).select_from(Customer).where(*_conditions(query or LeadQuery()))
    )
    return session.execute(stmt).scalar_one()


_OWNER = aliased(User, name="owner")
_ORDER = (Customer.last_interaction_at.asc().nulls_first(), Customer.created_at.desc(), Customer.id)


def _order(query: LeadQuery) -> tuple[sa.ColumnElement[object], ...]:
    """The inbox order; listing everyone, leads first, then active, then churned customers
    (each in the inbox order), which is `ix_customers_status_inbox` read straight through."""
    return _ORDER if query.status is not None else (Customer.status, *_ORDER)


def lead_page(
    session: Session,
    query: LeadQuery | None = None,
    *,
    offset: int = 0,
    limit: int = INBOX_PAGE,
    from_end: bool = False,
) -> list[LeadRow]:
    """Customers in inbox order (never contacted first, newest first); `from_end` reads the
    last `limit` (the `G` key). The order is an index (see the module's docstring)."""
    query = query or LeadQuery()
    conditions = _conditions(query)
    order = _order(query)
    if from_end:
        total = session.execute(
            sa.select(sa.func.count()).select_from(Customer).where(*conditions)
        ).scalar_one()
        offset = max(0, total - limit)
    # Skip and limit on customers alone; the owner is joined to the page only.
    page = (
        sa.select(Customer.id).where(*conditions).order_by(*order).offset(offset).limit(limit)
    ).subquery()
    stmt = (
        sa.select(
            Customer.id,
            Customer.name,
            Customer.lead_source,
            Customer.created_at,
            Customer.last_interaction_at,
            next_task_due_sql(Customer.id).label("next_task_at"),
            _OWNER.name.label("owner_name"),
            Customer.phone,
            Customer.email,
            Customer.phone_ext,
            next_task_title_sql(Customer.id).label("next_task_title"),
            Customer.owner_id,
            Customer.version,
            Customer.status,
        )
        .join(page, page.c.id == Customer.id)
        .outerjoin(_OWNER, _OWNER.id == Customer.owner_id)
        .order_by(*order)
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
