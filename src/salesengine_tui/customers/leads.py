"""Leads: what a rep does to them (log a call, convert, assign, add one), and the inbox they
are worked from (`inbox`, whose names are importable from here too). Plain functions over a
Session; no Textual.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session

from ..access import permissions
from ..access.users import Actor
from ..base.errors import NotFound, UserError
from ..db.models import (
    Customer,
    CustomerInteraction,
    CustomerStatus,
    InteractionDirection,
    InteractionType,
    Task,
    User,
    UserRole,
)
from ..tasks import editing as task_editing
from ..tasks.model import TaskDraft
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
from .phones import DEFAULT_REGION
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


# --- what a rep does -----------------------------------------------------------------------


def log_call(
    session: Session,
    actor: Actor,
    customer_id: uuid.UUID,
    *,
    outcome: str,
    notes: str | None,
    now: datetime,
    tz: ZoneInfo,
    task_id: uuid.UUID | None = None,
    task_version: int | None = None,
    next_task: TaskDraft | None = None,
) -> CustomerInteraction:
    """One outbound call, in the caller's transaction: an interaction row (see
    `profile.log_interaction`); the task it was for (`task_id`, one of this customer's, with
    the version the caller saw: `task_version`, or its current one when None) completed; and
    the next task, when one is given (its due as typed, read by `parse_due`) created. Any
    other task of the customer is left as it is: a call never removes a plan silently."""
    if outcome not in OUTCOMES:
        raise UserError(f"unknown call outcome {outcome!r}; one of: {', '.join(OUTCOMES)}")
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
    if task_id is not None:
        task = session.execute(
            sa.select(Task.customer_id, Task.version).where(Task.id == task_id)
        ).first()
        if task is None:
            raise NotFound("the task this call was for no longer exists (deleted by someone else)")
        if task.customer_id != customer_id:
            raise UserError("the task this call was for belongs to another customer")
        task_editing.complete_task(
            session,
            actor,
            task_id,
            expected_version=task.version if task_version is None else task_version,
            now=now,
        )
    if next_task is not None:
        task_editing.create_from_draft(session, actor, customer_id, next_task, now=now, tz=tz)
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
) -> Conversion:
    """Make leads active customers (one statement for any number). A deal opened with the
    conversion is the deals domain's (`deals.editing.create_deal`): the use case runs both
    in one transaction.

    A lead already converted (for example by moving its estimate to Won) is left alone and
    counted as `already`: no double work."""
    ids = list(dict.fromkeys(customer_ids))
    if not ids:
        return Conversion(0, 0)
    changed = activate_leads(
        session, ids, by=actor.id, at=now, reason="converted from the leads inbox"
    )
    return Conversion(len(changed), len(ids) - len(changed))


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
    phone_ext: str | None
    status: CustomerStatus


def possible_duplicates(
    session: Session,
    *,
    email: str | None,
    phone: str | None,
    phone_ext: str | None = None,
    limit: int = 5,
) -> list[Duplicate]:
    """Customers with the same email (any case) or the same phone: number and extension as
    `clean_contact` gives them (E.164), so the same number typed any way is the same phone.
    Shown before saving."""
    matches = []
    if email:
        matches.append(sa.func.lower(Customer.email) == email.lower())
    if phone:
        matches.append(
            sa.and_(Customer.phone == phone, Customer.phone_ext.is_not_distinct_from(phone_ext))
        )
    if not matches:
        return []
    stmt = (
        sa.select(
            Customer.id,
            Customer.name,
            Customer.email,
            Customer.phone,
            Customer.phone_ext,
            Customer.status,
        )
        .where(sa.or_(*matches))
        .order_by(Customer.created_at.desc())
        .limit(limit)
    )
    return [Duplicate(*row) for row in session.execute(stmt)]


def create_lead(
    session: Session,
    actor: Actor,
    values: dict[str, str | None],
    *,
    now: datetime,
    region: str = DEFAULT_REGION,
) -> uuid.UUID:
    """A new lead from the form's fields (validated here too, its phone read in `region`),
    owned by whoever adds it."""
    cleaned = clean_contact({**{"name": ""}, **values}, region=region)
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
