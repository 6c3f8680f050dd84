"""Leads: what a rep does to them (log a call, convert, assign, add one), and the inbox they
are worked from (`inbox`, whose names are importable from here too). Plain functions over a
Session; no Textual.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session

from ..access import permissions
from ..access.users import Actor
from ..base import validation
from ..base.errors import NotFound, UserError
from ..db.models import (
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
from .inbox import (
    INBOX_PAGE,
    LeadQuery,
    LeadRow,
    Person,
    assignable_users,
    end_of_day,
    first_leads,
    lead_count,
    lead_page,
    lead_sources,
)
from .profile import clean_contact, log_interaction
from .status import activate_leads

__all__ = [
    "INBOX_PAGE",
    "OUTCOMES",
    "Conversion",
    "Duplicate",
    "LeadQuery",
    "LeadRow",
    "Person",
    "assign",
    "assignable_users",
    "convert",
    "create_lead",
    "end_of_day",
    "first_leads",
    "lead_count",
    "lead_page",
    "lead_sources",
    "log_call",
    "outcome_label",
    "parse_when",
    "possible_duplicates",
]

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
    step = validation.one_line_text(next_step, "next step", max_len=500)
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
    changed = activate_leads(
        session, ids, by=actor.id, at=now, reason="converted from the leads inbox"
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
