"""A card's detail (`d` on the board): the estimate, its customer's contact facts and the
card's stage history, newest first."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from ..db.models import Customer, DealStage, Estimate, EstimateStageHistory, User
from .cards import Card, get_card


@dataclass(frozen=True)
class HistoryEntry:
    moved_at: datetime
    from_stage: str | None
    to_stage: str
    by: str | None
    lost_reason: str | None


@dataclass(frozen=True)
class CardDetail:
    card: Card
    stage_name: str
    email: str | None
    phone: str | None  # E.164
    phone_ext: str | None
    address: str | None
    lead_source: str | None
    created_at: datetime
    history: Sequence[HistoryEntry] = field(default_factory=list)


def detail(session: Session, estimate_id: uuid.UUID, *, history_limit: int = 20) -> CardDetail:
    card = get_card(session, estimate_id)
    row = session.execute(
        sa.select(
            DealStage.name,
            Customer.email,
            Customer.phone,
            Customer.phone_ext,
            sa.func.concat_ws(", ", Customer.address, Customer.city, Customer.state).label("addr"),
            Customer.lead_source,
            Estimate.created_at,
        )
        .select_from(Estimate)
        .join(Customer, Customer.id == Estimate.customer_id)
        .join(DealStage, DealStage.id == Estimate.stage_id)
        .where(Estimate.id == estimate_id)
    ).one()
    history = [
        HistoryEntry(*r)
        for r in session.execute(
            sa.select(
                EstimateStageHistory.moved_at,
                EstimateStageHistory.from_stage_name,
                EstimateStageHistory.to_stage_name,
                User.name,
                EstimateStageHistory.lost_reason,
            )
            .outerjoin(User, User.id == EstimateStageHistory.moved_by)
            .where(EstimateStageHistory.estimate_id == estimate_id)
            .order_by(EstimateStageHistory.moved_at.desc(), EstimateStageHistory.id)
            .limit(history_limit)
        )
    ]
    return CardDetail(
        card=card,
        stage_name=row.name,
        email=row.email,
        phone=row.phone,
        phone_ext=row.phone_ext,
        address=row.addr or None,
        lead_source=row.lead_source,
        created_at=row.created_at,
        history=history,
    )
