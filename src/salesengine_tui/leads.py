"""Leads: customers with status `lead`, in the order a rep should work them, and what a rep
does to them (log a call, convert, assign).

The inbox order (never contacted first, then the least recently contacted, newest lead first
among equals) is the partial index `ix_customers_inbox`, so a page is an index scan with a
LIMIT however many customers there are. Plain functions over a Session; no Textual.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session

from . import permissions, validation
from .customers import record_status_change
from .db.models import (
    Customer,
    CustomerInteraction,
    CustomerStatus,
    DealStage,
    Estimate,
    EstimateStageHistory,
    EstimateStatus,
    InteractionDirection,
    InteractionType,
    User,
    UserRole,
)
from .db.text_search import contains
from .errors import NotFound, UserError
from .profile import clean_contact, log_interaction
from .users import Actor

INBOX_PAGE = 200

# Call dispositions as stored (the demo data and the operations platform use these), in the
# order the call dialog offers them; `outcome_label` is how people read them.
OUTCOMES: tuple[str, ...] = (
    "connected",
    "voicemail",
    "no_answer",
    "wrong_number",
    "not_interested",
)


def outcome_label(outcome: str) -> str:
    return outcome.replace("_", " ")


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


def parse_when(text: str, now: datetime, tz: ZoneInfo) -> datetime | None:
    """A next-step date as people type it: `2026-12-01`, `+3` (days from today), `today`,
    `tomorrow`, or nothing. The step is set for 9:00 that day where the business is."""
    value = text.strip().lower()
    if not value:
        return None
    today = now.astimezone(tz).date()
    if value in {"today", "tomorrow"}:
        day = today + timedelta(days=0 if value == "today" else 1)
    elif value.startswith("+") and value[1:].rstrip("d").isdigit():
        days = int(value[1:].rstrip("d"))
        if days > 3650:
            raise UserError(f"{text.strip()!r} is more than ten years away")
        day = today + timedelta(days=days)
    else:
        try:
            day = datetime.strptime(value, "%Y-%m-%d").date()
        except ValueError:
            raise UserError(
                f"{text.strip()!r} is not a date: use YYYY-MM-DD, +N (days), today or tomorrow"
            ) from None
        if day < today:
            raise UserError(f"{day.isoformat()} is in the past")
    return datetime(day.year, day.month, day.day, 9, tzinfo=tz)


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


# --- what a rep does -----------------------------------------------------------------------


def log_call(
    session: Session,
    actor: Actor,
    customer_id: uuid.UUID,
    *,
    outcome: str,
    notes: str | None,
    next_step: str | None = None,
    next_step_at: datetime | None,
    now: datetime,
) -> CustomerInteraction:
    """One outbound call: an interaction row (see `profile.log_interaction`), and the
    customer's next step, replaced by what the rep sets now (None clears it): after a call
    the plan is whatever was just agreed."""
    if outcome not in OUTCOMES:
        raise UserError(f"unknown call outcome {outcome!r}; one of: {', '.join(OUTCOMES)}")
    if next_step_at is not None and next_step_at < now - timedelta(days=1):
        raise UserError("the next step date is in the past")
    step = (next_step or "").strip() or None
    if step is not None and len(step) > 500:
        raise UserError("the next step is too long (500 characters at most)")
    interaction = log_interaction(
        session,
        actor,
        customer_id,
        type=InteractionType.call,
        direction=InteractionDirection.outbound,
        notes=notes,
        now=now,
        outcome=outcome,
    )
    session.execute(
        sa.update(Customer)
        .where(Customer.id == customer_id)
        .values(next_step=step, next_step_at=next_step_at, version=Customer.version + 1)
    )
    return interaction


@dataclass(frozen=True)
class Conversion:
    converted: int  # leads that became active
    already: int  # not leads any more (converted by someone, or by a Won move)
    estimate_id: uuid.UUID | None = None


def convert(
    session: Session,
    actor: Actor,
    customer_ids: Sequence[uuid.UUID],
    *,
    now: datetime,
    open_estimate: tuple[uuid.UUID, str, Decimal] | None = None,
) -> Conversion:
    """Make leads active customers (one statement for any number), optionally opening an
    estimate (pipeline, title, amount) in the pipeline's first stage for a single lead.

    A lead already converted (for example by moving its estimate to Won) is left alone and
    counted as `already`: no double work, no second estimate."""
    ids = list(dict.fromkeys(customer_ids))
    if not ids:
        return Conversion(0, 0)
    if open_estimate is not None and len(ids) != 1:
        raise UserError("an estimate can be opened when converting one lead at a time")
    changed = session.execute(
        sa.update(Customer)
        .where(Customer.id.in_(ids), Customer.status == CustomerStatus.lead)
        .values(status=CustomerStatus.active, updated_at=now, version=Customer.version + 1)
        .returning(Customer.id)
    ).all()
    record_status_change(
        session,
        [row[0] for row in changed],
        from_status=CustomerStatus.lead,
        to_status=CustomerStatus.active,
        by=actor.id,
        at=now,
        reason="converted from the leads inbox",
    )
    estimate_id = None
    if open_estimate is not None and changed:
        pipeline_id, title, amount = open_estimate
        title = validation.require_text(title, "estimate title", max_len=200)
        if amount < 0:
            raise UserError("the estimate amount cannot be negative")
        first = session.execute(
            sa.select(DealStage)
            .where(DealStage.pipeline_id == pipeline_id, ~DealStage.is_won, ~DealStage.is_lost)
            .order_by(DealStage.position)
            .limit(1)
        ).scalar_one_or_none()
        if first is None:
            raise NotFound("that pipeline has no open stage")
        estimate = Estimate(
            customer_id=ids[0],
            title=title,
            amount=amount,
            status=EstimateStatus.draft,
            stage_id=first.id,
            stage_entered_at=now,
            owner_id=actor.id,
            created_by=actor.id,
            created_at=now,
            updated_at=now,
            updated_by=actor.id,
        )
        session.add(estimate)
        session.flush()
        session.add(
            EstimateStageHistory(
                estimate_id=estimate.id,
                to_stage_id=first.id,
                to_stage_name=first.name,
                moved_by=actor.id,
                moved_at=now,
            )
        )
        session.flush()
        estimate_id = estimate.id
    return Conversion(len(changed), len(ids) - len(changed), estimate_id)


def assign(
    session: Session,
    actor: Actor,
    customer_ids: Sequence[uuid.UUID],
    owner_id: uuid.UUID | None,
    *,
    now: datetime,
) -> int:
    """Give leads an owner (None: unassign), in one statement; returns how many changed."""
    ids = list(dict.fromkeys(customer_ids))
    current = session.execute(sa.select(Customer.owner_id).where(Customer.id.in_(ids))).scalars()
    permissions.require_assign(actor, owner_id, list(current))
    if owner_id is not None:
        owner = session.get(User, owner_id)
        if owner is None or not owner.active or owner.role not in (UserRole.rep, UserRole.manager):
            raise UserError("leads can be assigned to active reps and managers only")
    changed = session.execute(
        sa.update(Customer)
        .where(Customer.id.in_(ids), Customer.owner_id.is_distinct_from(owner_id))
        .values(owner_id=owner_id, updated_at=now, version=Customer.version + 1)
        .returning(Customer.id)
    ).all()
    return len(changed)


@dataclass(frozen=True)
class Duplicate:
    id: uuid.UUID
    name: str
    email: str | None
    phone: str | None
    status: CustomerStatus


def possible_duplicates(
    session: Session, *, email: str | None, phone: str | None, limit: int = 5
) -> list[Duplicate]:
    """Customers with the same email (any case) or the same phone: shown before saving."""
    matches = []
    if email:
        matches.append(sa.func.lower(Customer.email) == email.lower())
    if phone:
        matches.append(Customer.phone == phone)
    if not matches:
        return []
    stmt = (
        sa.select(Customer.id, Customer.name, Customer.email, Customer.phone, Customer.status)
        .where(sa.or_(*matches))
        .order_by(Customer.created_at.desc())
        .limit(limit)
    )
    return [Duplicate(*row) for row in session.execute(stmt)]


def create_lead(
    session: Session, actor: Actor, values: dict[str, str | None], *, now: datetime
) -> uuid.UUID:
    """A new lead from the form's fields (validated here too), owned by whoever adds it."""
    cleaned = clean_contact({**{"name": ""}, **values})
    customer = Customer(
        **cleaned,
        status=CustomerStatus.lead,
        owner_id=actor.id,
        created_at=now,
        updated_at=now,
    )
    session.add(customer)
    session.flush()
    return customer.id
