"""Telling open screens that tasks changed (My tasks, the dashboard's my day, a profile):
one NOTIFY channel, delivered when (and only if) the writing transaction commits."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlmodel import Session

# The payload is the customer's id whose tasks changed.
TASKS_CHANNEL = "salesengine_tasks"


def notify_tasks(session: Session, customer_id: uuid.UUID) -> None:
    session.execute(sa.select(sa.func.pg_notify(TASKS_CHANNEL, str(customer_id))))
