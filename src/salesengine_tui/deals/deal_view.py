"""What the deal screen shows: the deal and its customer, its history (stage entries with their
lost reasons and the field changes people made, interleaved, newest first), the ticket and
equipment an upsell came from, and the customer's latest interactions. Every list is capped,
with its full count beside it; a customer's deals are listed for their profile.

Open tasks are the tasks domain's (`tasks.queries.open_tasks`): the use case adds them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session

from ..base.errors import NotFound
from ..customers.profile import InteractionLine, recent_interactions
from ..db.models import (
    Customer,
    CustomerInteraction,
    CustomerStatus,
    DealPipeline,
    DealStage,
    Equipment,
    Estimate,
    EstimateChange,
    EstimateStageHistory,
    Ticket,
    User,
)

HISTORY_LIMIT = 50
INTERACTIONS_SHOWN = 5
CUSTOMER_DEALS_LIMIT = 50


@dataclass(frozen=True)
class DealEvent:
    """One line of a deal's history: it entered a stage, or a person changed a field."""

    id: uuid.UUID
    at: datetime
    kind: Literal["stage", "change"]
    by: str | None
    by_initials: str | None  # unique on the desk: the history's narrow column
    # kind "stage"
    from_stage: str | None = None
    to_stage: str | None = None
    lost_reason: str | None = None
    # kind "change": a key of `editing.FIELD_LABELS`, the values as they were shown
    field: str | None = None
    old: str | None = None
    new: str | None = None


@dataclass(frozen=True)
class LinkedTicket:
    """The service ticket an upsell deal came from."""

    number: int
    summary: str
    status: str
    closed_at: datetime | None
    resolution: str | None


@dataclass(frozen=True)
class LinkedEquipment:
    kind: str
    brand: str | None
    model: str | None
    installed_on: date


@dataclass(frozen=True)
class DealView:
    id: uuid.UUID
    version: int
    number: int
    title: str
    amount: Decimal
    amount_estimated: bool
    status: str
    expected_close_on: date | None
    lost_reason: str | None
    created_at: datetime
    created_by: str | None
    owner_id: uuid.UUID | None
    owner_name: str | None
    customer_id: uuid.UUID
    customer_name: str
    customer_status: CustomerStatus
    customer_phone: str | None  # E.164 (`customers.phones.phone_display` shows it)
    customer_phone_ext: str | None
    customer_email: str | None
    pipeline_id: uuid.UUID | None
    pipeline_name: str | None
    stage_id: uuid.UUID | None
    stage_name: str | None
    stage_is_won: bool
    stage_is_lost: bool
    stage_entered_at: datetime | None
    history: list[DealEvent] = field(default_factory=list)
    history_total: int = 0
    ticket: LinkedTicket | None = None
    equipment: LinkedEquipment | None = None
    interactions: list[InteractionLine] = field(default_factory=list)
    interactions_total: int = 0

    @property
    def closed(self) -> bool:
        return self.stage_is_won or self.stage_is_lost


@dataclass(frozen=True)
class DealLine:
    """A deal in a customer's list of deals."""

    id: uuid.UUID
    number: int
    title: str
    amount: Decimal
    amount_estimated: bool
    stage_name: str | None
    is_won: bool
    is_lost: bool
    owner_name: str | None
    expected_close_on: date | None


def deal_view(session: Session, estimate_id: uuid.UUID) -> DealView:
    owner, creator = aliased(User), aliased(User)
    row = session.execute(
        sa.select(
            Estimate,
            owner.name.label("owner_name"),
            creator.name.label("creator_name"),
            Customer.name.label("customer_name"),
            Customer.status.label("customer_status"),
            Customer.phone,
            Customer.phone_ext,
            Customer.email,
            DealStage.pipeline_id,
            DealPipeline.name.label("pipeline_name"),
            DealStage.name.label("stage_name"),
            DealStage.is_won,
            DealStage.is_lost,
        )
        .join(Customer, Customer.id == Estimate.customer_id)
        .outerjoin(owner, owner.id == Estimate.owner_id)
        .outerjoin(creator, creator.id == Estimate.created_by)
        .outerjoin(DealStage, DealStage.id == Estimate.stage_id)
        .outerjoin(DealPipeline, DealPipeline.id == DealStage.pipeline_id)
        .where(Estimate.id == estimate_id)
    ).one_or_none()
    if row is None:
        raise NotFound("that estimate no longer exists (deleted by someone else)")
    e: Estimate = row[0]
    history, total = _history(session, estimate_id)
    ticket, equipment = _source(session, e)
    interactions, interactions_total = _interactions(session, e.customer_id)
    return DealView(
        id=e.id,
        version=e.version,
        number=int(e.number or 0),
        title=e.title,
        amount=e.amount,
        amount_estimated=e.amount_estimated,
        status=str(e.status),
        expected_close_on=e.expected_close_on,
        lost_reason=e.lost_reason,
        created_at=e.created_at,  # type: ignore[arg-type]
        created_by=row.creator_name,
        owner_id=e.owner_id,
        owner_name=row.owner_name,
        customer_id=e.customer_id,
        customer_name=row.customer_name,
        customer_status=CustomerStatus(row.customer_status),
        customer_phone=row.phone,
        customer_phone_ext=row.phone_ext,
        customer_email=row.email,
        pipeline_id=row.pipeline_id,
        pipeline_name=row.pipeline_name,
        stage_id=e.stage_id,
        stage_name=row.stage_name,
        stage_is_won=bool(row.is_won),
        stage_is_lost=bool(row.is_lost),
        stage_entered_at=e.stage_entered_at,
        history=history,
        history_total=total,
        ticket=ticket,
        equipment=equipment,
        interactions=interactions,
        interactions_total=interactions_total,
    )


def _history(
    session: Session, estimate_id: uuid.UUID, limit: int = HISTORY_LIMIT
) -> tuple[list[DealEvent], int]:
    """Stage entries and field changes, newest first: one UNION ALL, each side cut by its
    (estimate, time) index; and how many there are in all."""
    h, c = EstimateStageHistory, EstimateChange
    text = sa.Text()
    stages = (
        sa.select(
            h.id.label("id"),
            h.moved_at.label("at"),
            sa.literal("stage").label("kind"),
            h.moved_by.label("user_id"),
            h.from_stage_name.label("from_stage"),
            h.to_stage_name.label("to_stage"),
            h.lost_reason.label("lost_reason"),
            sa.cast(sa.null(), text).label("field"),
            sa.cast(sa.null(), text).label("old"),
            sa.cast(sa.null(), text).label("new"),
        )
        .where(h.estimate_id == estimate_id)
        .order_by(h.moved_at.desc(), h.id.desc())
        .limit(limit)
    )
    changes = (
        sa.select(
            c.id,
            c.changed_at,
            sa.literal("change"),
            c.changed_by,
            sa.cast(sa.null(), text),
            sa.cast(sa.null(), text),
            sa.cast(sa.null(), text),
            c.field,
            c.old_value,
            c.new_value,
        )
        .where(c.estimate_id == estimate_id)
        .order_by(c.changed_at.desc(), c.id.desc())
        .limit(limit)
    )
    both = sa.union_all(sa.select(stages.subquery()), sa.select(changes.subquery())).subquery(
        "history"
    )
    who = aliased(User)
    rows = session.execute(
        sa.select(both, who.name.label("by"), who.initials.label("by_initials"))
        .outerjoin(who, who.id == both.c.user_id)
        # A change and a move in one instant: the move first reads better (created, then set).
        .order_by(both.c.at.desc(), both.c.kind, both.c.id.desc())
        .limit(limit)
    )
    events = [
        DealEvent(
            id=r.id,
            at=r.at,
            kind=r.kind,
            by=r.by,
            by_initials=r.by_initials,
            from_stage=r.from_stage,
            to_stage=r.to_stage,
            lost_reason=r.lost_reason,
            field=r.field,
            old=r.old,
            new=r.new,
        )
        for r in rows
    ]
    total = session.execute(
        sa.select(
            sa.select(sa.func.count()).select_from(h).where(h.estimate_id == estimate_id)
            .scalar_subquery()
            + sa.select(sa.func.count()).select_from(c).where(c.estimate_id == estimate_id)
            .scalar_subquery()
        )
    ).scalar_one()  # fmt: skip
    return events, int(total)


def _source(session: Session, e: Estimate) -> tuple[LinkedTicket | None, LinkedEquipment | None]:
    """The ticket an upsell came from and the equipment it is about (the estimate's own, else
    the ticket's)."""
    ticket = None
    equipment_id = e.equipment_id
    if e.source_ticket_id is not None:
        t = session.get(Ticket, e.source_ticket_id)
        if t is not None:
            ticket = LinkedTicket(int(t.number or 0), t.summary, str(t.status), t.closed_at,
                                  t.resolution)  # fmt: skip
            equipment_id = equipment_id or t.equipment_id
    equipment = None
    if equipment_id is not None:
        eq = session.get(Equipment, equipment_id)
        if eq is not None:
            equipment = LinkedEquipment(eq.kind, eq.brand, eq.model, eq.installed_on)
    return ticket, equipment


def _interactions(
    session: Session, customer_id: uuid.UUID, limit: int = INTERACTIONS_SHOWN
) -> tuple[list[InteractionLine], int]:
    """The customer's latest interactions (as the profile reads them), and how many in all."""
    ci = CustomerInteraction
    total = session.execute(
        sa.select(sa.func.count()).select_from(ci).where(ci.customer_id == customer_id)
    ).scalar_one()
    return recent_interactions(session, customer_id, limit), int(total)


def customer_deals(
    session: Session, customer_id: uuid.UUID, limit: int = CUSTOMER_DEALS_LIMIT
) -> tuple[list[DealLine], int]:
    """A customer's deals, open ones first, then the newest; and how many there are."""
    rows = session.execute(
        sa.select(
            Estimate.id,
            Estimate.number,
            Estimate.title,
            Estimate.amount,
            Estimate.amount_estimated,
            DealStage.name,
            sa.func.coalesce(DealStage.is_won, False),
            sa.func.coalesce(DealStage.is_lost, False),
            User.name,
            Estimate.expected_close_on,
        )
        .outerjoin(DealStage, DealStage.id == Estimate.stage_id)
        .outerjoin(User, User.id == Estimate.owner_id)
        .where(Estimate.customer_id == customer_id)
        .order_by(
            sa.or_(
                sa.func.coalesce(DealStage.is_won, False),
                sa.func.coalesce(DealStage.is_lost, False),
            ),
            Estimate.created_at.desc(),
            Estimate.id,
        )
        .limit(limit)
    )
    deals = [DealLine(*r) for r in rows]
    total = session.execute(
        sa.select(sa.func.count()).select_from(Estimate).where(Estimate.customer_id == customer_id)
    ).scalar_one()
    return deals, int(total)
