"""Enum values exactly as the plan names them; stored as PostgreSQL enum types."""

from __future__ import annotations

from enum import StrEnum

import sqlalchemy as sa


class UserRole(StrEnum):
    rep = "rep"
    manager = "manager"
    technician = "technician"
    system = "system"


class CustomerStatus(StrEnum):
    lead = "lead"
    active = "active"
    churned = "churned"


class TicketStatus(StrEnum):
    open = "open"
    booked = "booked"
    in_progress = "in_progress"
    closed = "closed"
    cancelled = "cancelled"


class EstimateStatus(StrEnum):
    draft = "draft"
    sent = "sent"
    accepted = "accepted"
    declined = "declined"


class InteractionType(StrEnum):
    call = "call"
    email = "email"
    sms = "sms"
    meeting = "meeting"


class InteractionDirection(StrEnum):
    inbound = "inbound"
    outbound = "outbound"


class TaskKind(StrEnum):
    call = "call"
    email = "email"
    meeting = "meeting"
    site_visit = "site_visit"
    todo = "todo"


class OutboxStatus(StrEnum):
    queued = "queued"
    sending = "sending"
    sent = "sent"
    failed = "failed"
    suppressed = "suppressed"


def pg_enum(enum_cls: type[StrEnum], name: str) -> sa.Enum:
    """A PostgreSQL enum that stores the values (not the Python member names)."""
    return sa.Enum(enum_cls, name=name, values_callable=lambda e: [m.value for m in e])


END_OF_LIFE_RESOLUTION = "Equipment End of Life"
