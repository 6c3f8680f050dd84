"""The activity feed: the newest interactions and stage moves, merged, newest first."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session

from .db.models import Customer, CustomerInteraction, Estimate, EstimateStageHistory, User

FEED_LIMIT = 50


class ActivityKind(StrEnum):
    interaction = "interaction"
    stage_move = "stage_move"


@dataclass(frozen=True)
class ActivityItem:
    """One feed entry. Interaction fields are None on a stage move and the other way round."""

    at: datetime
    kind: ActivityKind
    customer_id: uuid.UUID
    customer_name: str
    user_name: str | None
    # interactions
    interaction_type: str | None
    direction: str | None
    outcome: str | None
    notes: str | None
    # stage moves
    estimate_number: int | None
    estimate_title: str | None
    from_stage: str | None
    to_stage: str | None


def _null(type_: sa.types.TypeEngine[object]) -> sa.ColumnElement[object]:
    return sa.cast(sa.null(), type_)


def recent_activity(session: Session, limit: int = FEED_LIMIT) -> list[ActivityItem]:
    """The newest `limit` entries: one UNION ALL, each side cut to `limit` by its time index."""
    ci, h, e = CustomerInteraction, EstimateStageHistory, Estimate
    interactions = (
        sa.select(
            ci.id.label("id"),
            ci.created_at.label("at"),
            sa.literal(ActivityKind.interaction.value).label("kind"),
            ci.customer_id.label("customer_id"),
            ci.created_by.label("user_id"),
            sa.cast(ci.type, sa.Text).label("interaction_type"),
            sa.cast(ci.direction, sa.Text).label("direction"),
            ci.outcome.label("outcome"),
            ci.notes.label("notes"),
            _null(sa.BigInteger).label("estimate_number"),
            _null(sa.Text).label("estimate_title"),
            _null(sa.Text).label("from_stage"),
            _null(sa.Text).label("to_stage"),
        )
        .order_by(ci.created_at.desc(), ci.id)
        .limit(limit)
    )
    moves = (
        sa.select(
            h.id,
            h.moved_at,
            sa.literal(ActivityKind.stage_move.value),
            e.customer_id,
            h.moved_by,
            _null(sa.Text),
            _null(sa.Text),
            _null(sa.Text),
            _null(sa.Text),
            e.number,
            e.title,
            h.from_stage_name,
            h.to_stage_name,
        )
        .join(e, e.id == h.estimate_id)
        .order_by(h.moved_at.desc(), h.id)
        .limit(limit)
    )
    # Each side in its own subquery so its ORDER BY ... LIMIT uses its time index.
    feed = sa.union_all(sa.select(interactions.subquery()), sa.select(moves.subquery())).subquery(
        "feed"
    )
    user = aliased(User)
    stmt = (
        sa.select(feed, Customer.name.label("customer_name"), user.name.label("user_name"))
        .join(Customer, Customer.id == feed.c.customer_id)
        .outerjoin(user, user.id == feed.c.user_id)
        .order_by(feed.c.at.desc(), feed.c.id)
        .limit(limit)
    )
    return [
        ActivityItem(
            at=r.at,
            kind=ActivityKind(r.kind),
            customer_id=r.customer_id,
            customer_name=r.customer_name,
            user_name=r.user_name,
            interaction_type=r.interaction_type,
            direction=r.direction,
            outcome=r.outcome,
            notes=r.notes,
            estimate_number=r.estimate_number,
            estimate_title=r.estimate_title,
            from_stage=r.from_stage,
            to_stage=r.to_stage,
        )
        for r in session.execute(stmt)
    ]
