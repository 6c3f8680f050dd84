"""A customer's profile: contact details, open tasks, equipment, tickets and estimates, and
editing the contact details under an optimistic lock; what a caller sees while calling (the
open tasks and the last interactions). Plain functions over a Session; no Textual."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session

from ..access.users import Actor
from ..activity.feed import ActivityKind, notify_activity
from ..base import validation
from ..base.errors import NotFound, UserError
from ..db.models import (
    Customer,
    CustomerInteraction,
    CustomerStatus,
    DealStage,
    Equipment,
    Estimate,
    InteractionDirection,
    InteractionType,
    Task,
    Ticket,
    User,
)
from ..tasks.model import TaskRow
from ..tasks.queries import open_tasks
from .phones import DEFAULT_REGION, parse_phone, phone_unchanged
from .status import OptOutRecord, last_opt_out

# The open tasks a profile lists (the soonest first); the count says how many there are.
PROFILE_TASKS = 5
RECENT_INTERACTIONS = 3  # what Quick Call shows of the customer's history

LIST_LIMIT = 50
NOTES_MAX = 10_000
CONTACT_MAX = 200


@dataclass(frozen=True)
class EquipmentRow:
    kind: str
    brand: str | None
    model: str | None
    installed_on: date


@dataclass(frozen=True)
class TicketRow:
    number: int
    status: str
    summary: str
    opened_at: datetime
    closed_at: datetime | None
    resolution: str | None


@dataclass(frozen=True)
class EstimateRow:
    number: int
    title: str
    amount: Decimal
    stage: str | None
    status: str


@dataclass(frozen=True)
class Profile:
    id: uuid.UUID
    version: int
    name: str
    email: str | None
    phone: str | None  # E.164 (`phones.phone_display` shows it)
    phone_ext: str | None
    address: str | None
    city: str | None
    state: str | None
    postal_code: str | None
    status: CustomerStatus
    lead_source: str | None
    owner_name: str | None
    created_at: datetime
    last_interaction_at: datetime | None
    email_opt_out: bool
    open_tasks: list[TaskRow] = field(default_factory=list)  # the soonest PROFILE_TASKS
    open_task_count: int = 0
    equipment: list[EquipmentRow] = field(default_factory=list)
    tickets: list[TicketRow] = field(default_factory=list)
    estimates: list[EstimateRow] = field(default_factory=list)
    opt_out: OptOutRecord | None = None  # when and how, while opted out of email


def profile(session: Session, customer_id: uuid.UUID) -> Profile:
    owner = aliased(User)
    row = session.execute(
        sa.select(Customer, owner.name.label("owner_name"))
        .outerjoin(owner, owner.id == Customer.owner_id)
        .where(Customer.id == customer_id)
    ).one_or_none()
    if row is None:
        raise NotFound("that customer no longer exists")
    c: Customer = row[0]
    equipment = [
        EquipmentRow(*r)
        for r in session.execute(
            sa.select(Equipment.kind, Equipment.brand, Equipment.model, Equipment.installed_on)
            .where(Equipment.customer_id == customer_id)
            .order_by(Equipment.installed_on)
            .limit(LIST_LIMIT)
        )
    ]
    tickets = [
        TicketRow(r.number, str(r.status), r.summary, r.opened_at, r.closed_at, r.resolution)
        for r in session.execute(
            sa.select(Ticket)
            .where(Ticket.customer_id == customer_id)
            .order_by(Ticket.opened_at.desc())
            .limit(LIST_LIMIT)
        ).scalars()
    ]
    estimates = [
        EstimateRow(r.number, r.title, r.amount, r.stage, str(r.status))
        for r in session.execute(
            sa.select(
                Estimate.number,
                Estimate.title,
                Estimate.amount,
                DealStage.name.label("stage"),
                Estimate.status,
            )
            .outerjoin(DealStage, DealStage.id == Estimate.stage_id)
            .where(Estimate.customer_id == customer_id)
            .order_by(Estimate.created_at.desc())
            .limit(LIST_LIMIT)
        )
    ]
    return Profile(
        id=c.id,
        version=c.version,
        name=c.name,
        email=c.email,
        phone=c.phone,
        phone_ext=c.phone_ext,
        address=c.address,
        city=c.city,
        state=c.state,
        postal_code=c.postal_code,
        status=CustomerStatus(c.status),
        lead_source=c.lead_source,
        owner_name=row.owner_name,
        created_at=c.created_at,
        last_interaction_at=c.last_interaction_at,
        email_opt_out=c.email_opt_out,
        open_tasks=open_tasks(session, customer_id=customer_id, limit=PROFILE_TASKS),
        open_task_count=open_task_count(session, customer_id),
        equipment=equipment,
        tickets=tickets,
        estimates=estimates,
        opt_out=(last_opt_out(session, customer_id) or OptOutRecord(c.opted_out_at, None, None))
        if c.email_opt_out
        else None,
    )


def open_task_count(session: Session, customer_id: uuid.UUID) -> int:
    return session.execute(
        sa.select(sa.func.count())
        .select_from(Task)
        .where(Task.customer_id == customer_id, Task.done_at.is_(None))
    ).scalar_one()


@dataclass(frozen=True)
class InteractionLine:
    """One past interaction as a caller glances at it."""

    type: str
    direction: str
    outcome: str | None
    at: datetime
    notes: str | None
    by: str | None
    by_initials: str | None = None  # unique on the desk: where the whole name does not fit


@dataclass(frozen=True)
class CallSheet:
    """What Quick Call shows beside the number: every open task (the soonest first, up to a
    limit) and how many there are, and the last few interactions, newest first."""

    open_tasks: list[TaskRow]
    open_task_count: int
    recent: list[InteractionLine]


def recent_interactions(
    session: Session, customer_id: uuid.UUID, limit: int = RECENT_INTERACTIONS
) -> list[InteractionLine]:
    by = aliased(User)
    rows = session.execute(
        sa.select(
            CustomerInteraction.type,
            CustomerInteraction.direction,
            CustomerInteraction.outcome,
            CustomerInteraction.created_at,
            CustomerInteraction.notes,
            by.name,
            by.initials,
        )
        .outerjoin(by, by.id == CustomerInteraction.created_by)
        .where(CustomerInteraction.customer_id == customer_id)
        .order_by(CustomerInteraction.created_at.desc(), CustomerInteraction.id.desc())
        .limit(limit)
    )
    return [InteractionLine(str(r[0]), str(r[1]), r[2], r[3], r[4], r[5], r[6]) for r in rows]


def call_sheet(session: Session, customer_id: uuid.UUID) -> CallSheet:
    if session.get(Customer, customer_id) is None:
        raise NotFound("that customer no longer exists")
    return CallSheet(
        open_tasks=open_tasks(session, customer_id=customer_id, limit=LIST_LIMIT),
        open_task_count=open_task_count(session, customer_id),
        recent=recent_interactions(session, customer_id),
    )


CONTACT_FIELDS = (
    "name",
    "email",
    "phone",
    "address",
    "city",
    "state",
    "postal_code",
    "lead_source",
)


def clean_contact(
    values: dict[str, str | None], *, region: str = DEFAULT_REGION
) -> dict[str, str | None]:
    """Validate contact fields as a person typed them (the form, a CSV row); UserError names
    the field. No field may hold a control character or a line break. A phone becomes
    `phone` (E.164, read in `region`) and `phone_ext`."""
    cleaned: dict[str, str | None] = {}
    for key in CONTACT_FIELDS:
        if key not in values:
            continue
        label = key.replace("_", " ")
        raw = validation.refuse_controls((values[key] or "").strip(), label)
        if key == "name":
            cleaned[key] = validation.require_text(raw, "name", max_len=CONTACT_MAX)
        elif key == "email":
            cleaned[key] = validation.email(raw)
        elif key == "phone":
            phone = parse_phone(raw, region=region)
            cleaned["phone"], cleaned["phone_ext"] = (
                (phone.number, phone.ext) if phone else (None, None)
            )
        else:
            cleaned[key] = validation.one_line_text(raw, label, max_len=CONTACT_MAX)
    return cleaned


def update_contact(
    session: Session,
    actor: Actor,
    customer_id: uuid.UUID,
    *,
    expected_version: int,
    values: dict[str, str | None],
    now: datetime,
    region: str = DEFAULT_REGION,
) -> int:
    """Save edited contact details if nobody changed the customer since `expected_version`;
    returns the new version. Nothing is written when a field is invalid or the lock fails.
    A phone left as the form showed it stays as stored (`phones.phone_unchanged`)."""
    stored = session.execute(
        sa.select(Customer.phone, Customer.phone_ext).where(Customer.id == customer_id)
    ).first()
    if stored is not None and "phone" in values and phone_unchanged(values["phone"], *stored):
        values = {key: value for key, value in values.items() if key != "phone"}
    cleaned = clean_contact(values, region=region)
    updated = session.execute(
        sa.update(Customer)
        .where(Customer.id == customer_id, Customer.version == expected_version)
        .values(**cleaned, updated_at=now, version=Customer.version + 1)
        .returning(Customer.version)
    ).first()
    if updated is None:
        if session.get(Customer, customer_id) is None:
            raise NotFound("that customer no longer exists")
        raise UserError(
            "someone else changed this customer while you were editing; nothing was saved. "
            "Reopen the form to see their changes"
        )
    return int(updated[0])


def log_interaction(
    session: Session,
    actor: Actor,
    customer_id: uuid.UUID,
    *,
    type: InteractionType,
    direction: InteractionDirection,
    notes: str | None,
    now: datetime,
    outcome: str | None = None,
) -> CustomerInteraction:
    """Record a call, email, text or meeting, and the customer's last touch."""
    text = validation.multi_line_text(notes, "notes", max_len=NOTES_MAX)
    touched = session.execute(
        sa.update(Customer)
        .where(Customer.id == customer_id)
        .values(
            last_interaction_at=sa.func.greatest(Customer.last_interaction_at, now),
            updated_at=now,
        )
        .returning(Customer.id)
    ).first()
    if touched is None:
        raise NotFound("that customer no longer exists")
    interaction = CustomerInteraction(
        customer_id=customer_id,
        type=type,
        direction=direction,
        notes=text,
        outcome=outcome,
        created_by=actor.id,
        created_at=now,
    )
    session.add(interaction)
    session.flush()
    notify_activity(session, ActivityKind.interaction)
    return interaction
