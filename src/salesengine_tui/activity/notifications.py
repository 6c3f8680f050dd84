"""Notifications: what the jobs runner and the app tell people (upsell flags, failed email).

Each row belongs to one user; everyone sees their own, managers may also look at everyone's.
A trigger on the table NOTIFYs `CHANNEL` on insert (delivered on commit), so an open app can
show the unread count and a toast within a second of the jobs runner's commit.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from ..access import permissions
from ..access.users import Actor
from ..db.models import Customer, Notification, User

CHANNEL = "salesengine_notifications"
LIMIT = 300


@dataclass(frozen=True)
class Item:
    id: uuid.UUID
    user_id: uuid.UUID
    user_name: str
    kind: str
    title: str
    body: str | None
    customer_id: uuid.UUID | None
    customer_name: str | None
    created_at: datetime
    read_at: datetime | None

    @property
    def unread(self) -> bool:
        return self.read_at is None


@dataclass(frozen=True)
class Arrived:
    """A NOTIFY payload: whose notification, and its title (for the toast)."""

    id: uuid.UUID
    user_id: uuid.UUID
    title: str

    @classmethod
    def from_json(cls, payload: str) -> Arrived | None:
        try:
            data = json.loads(payload)
            return cls(uuid.UUID(data["id"]), uuid.UUID(data["user_id"]), str(data["title"]))
        except (ValueError, KeyError, TypeError):
            return None  # not ours: ignore rather than crash


def unread_count(session: Session, actor: Actor) -> int:
    return session.execute(
        sa.select(sa.func.count())
        .select_from(Notification)
        .where(Notification.user_id == actor.id, Notification.read_at.is_(None))
    ).scalar_one()


def recent(
    session: Session, actor: Actor, *, everyone: bool = False, limit: int = LIMIT
) -> list[Item]:
    """Newest first: the actor's own, or (managers) everyone's."""
    if everyone:
        permissions.require(actor, permissions.Action.see_all_notifications)
    stmt = (
        sa.select(
            Notification.id,
            Notification.user_id,
            User.name,
            Notification.kind,
            Notification.title,
            Notification.body,
            Notification.customer_id,
            Customer.name,
            Notification.created_at,
            Notification.read_at,
        )
        .join(User, User.id == Notification.user_id)
        .outerjoin(Customer, Customer.id == Notification.customer_id)
        .order_by(Notification.created_at.desc(), Notification.id)
        .limit(limit)
    )
    if not everyone:
        stmt = stmt.where(Notification.user_id == actor.id)
    return [Item(*row) for row in session.execute(stmt)]


def mark_read(session: Session, actor: Actor, ids: list[uuid.UUID] | None, *, now: datetime) -> int:
    """Mark the actor's own notifications read (all of them when `ids` is None); someone
    else's stay unread for them, whoever is looking."""
    stmt = (
        sa.update(Notification)
        .where(Notification.user_id == actor.id, Notification.read_at.is_(None))
        .values(read_at=now)
        .returning(Notification.id)
    )
    if ids is not None:
        stmt = stmt.where(Notification.id.in_(ids))
    return len(session.execute(stmt).all())
