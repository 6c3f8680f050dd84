"""Notifications the jobs write set-based: one INSERT ... SELECT, once per dedupe key."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import Insert, insert

from ..db.models import Notification

# What the SELECT gives, in this order.
COLUMNS = (
    "user_id",
    "kind",
    "title",
    "body",
    "customer_id",
    "estimate_id",
    "dedupe_key",
    "created_at",
)


def notify_statement(notices: sa.Select) -> Insert:
    """Insert the SELECT's notifications (columns as `COLUMNS`); a dedupe key already used is
    skipped, and RETURNING gives the new ones' ids."""
    return (
        insert(Notification)
        .from_select(list(COLUMNS), notices)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(Notification.id)
    )
