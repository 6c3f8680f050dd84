"""Tech upsell sync: an "Equipment End of Life" ticket becomes a replacement opportunity,
exactly once per ticket, and every sales manager hears of it.

The tickets, equipment and customers come from the operations platform, which does not check
text the way our forms do: what is copied from them into an estimate title, a notification or
an email is cleaned on the way (`base.validation`'s list of unsafe characters: one space).

Set-based and in the caller's transaction: one statement creates the estimates (the unique
`estimates.source_ticket_id` makes a second run, or a second runner, create nothing), one
writes their stage history, one notifies the managers, one queues the managers' emails.
Reopening and closing the ticket again finds its estimate and creates nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import Insert
from sqlmodel import Session

from ..access.users import system_user
from ..activity.feed import ActivityKind, notify_activity
from ..base.validation import UNSAFE_SQL_PATTERN, email_sql
from ..db.models import END_OF_LIFE_RESOLUTION, User, UserRole
from ..email.outbox import enqueue_statement
from .notices import notify_statement

PIPELINE = "Residential Replacements"

_CREATE = """
WITH first_stage AS (
    SELECT s.id, s.name FROM deal_stages s JOIN deal_pipelines p ON p.id = s.pipeline_id
    WHERE p.name = :pipeline AND NOT s.is_won AND NOT s.is_lost
    ORDER BY s.position LIMIT 1
), flagged AS (
    SELECT t.id AS ticket_id, t.customer_id, t.equipment_id, t.technician_id, t.closed_at,
           coalesce(nullif(btrim(regexp_replace(eq.kind, :unsafe, ' ', 'g')), ''), 'system') AS kind
    FROM tickets t
    LEFT JOIN equipment eq ON eq.id = t.equipment_id
    WHERE t.status = 'closed' AND t.resolution = :resolution
      AND NOT EXISTS (SELECT 1 FROM estimates e WHERE e.source_ticket_id = t.id)
    ORDER BY t.closed_at
    LIMIT :limit
)
INSERT INTO estimates (customer_id, title, amount, status, equipment_id, created_by, created_at,
                       updated_at, stage_id, stage_entered_at, source_ticket_id)
SELECT f.customer_id, 'Replace ' || f.kind || ' (end of life)', 0, 'draft', f.equipment_id,
       f.technician_id, :now, :now, fs.id, :now, f.ticket_id
FROM flagged f CROSS JOIN first_stage fs
ON CONFLICT (source_ticket_id) DO NOTHING
RETURNING id, customer_id, source_ticket_id, stage_id
"""

_HISTORY = """
INSERT INTO estimate_stage_history (estimate_id, to_stage_id, to_stage_name, moved_by, moved_at)
SELECT e.id, e.stage_id, s.name, e.created_by, :now
FROM estimates e JOIN deal_stages s ON s.id = e.stage_id
WHERE e.id = ANY(CAST(:ids AS uuid[]))
"""

# Each new opportunity with what the managers are told about it.
_FLAGS = """
SELECT e.id AS estimate_id, e.customer_id, t.number AS ticket,
       coalesce(tech.name, 'A technician') AS tech,
       coalesce(nullif(concat_ws(', ', c.address, c.city), ''), c.name) AS place,
       c.name AS customer_name
FROM estimates e
JOIN tickets t ON t.id = e.source_ticket_id
JOIN (SELECT id, btrim(regexp_replace(name, :unsafe, ' ', 'g')) AS name,
             btrim(regexp_replace(address, :unsafe, ' ', 'g')) AS address,
             btrim(regexp_replace(city, :unsafe, ' ', 'g')) AS city
      FROM customers) c ON c.id = e.customer_id
LEFT JOIN (SELECT id, btrim(regexp_replace(name, :unsafe, ' ', 'g')) AS name FROM users) tech
       ON tech.id = t.technician_id
WHERE e.id = ANY(CAST(:ids AS uuid[]))
"""


def _flags(ids: list[object]) -> sa.Subquery:
    return (
        sa.text(_FLAGS)
        .bindparams(ids=ids, unsafe=UNSAFE_SQL_PATTERN)
        .columns(
            estimate_id=sa.Uuid,
            customer_id=sa.Uuid,
            ticket=sa.Integer,
            tech=sa.Text,
            place=sa.Text,
            customer_name=sa.Text,
        )
        .subquery("flags")
    )


def _managers() -> sa.Select:
    return sa.select(User.id, User.email, User.name).where(
        User.active, User.role == UserRole.manager
    )


def _flagged(flags: sa.Subquery) -> sa.ColumnElement[str]:
    return "Tech " + flags.c.tech + " just flagged a system for replacement at " + flags.c.place


def _key(flags: sa.Subquery, managers: sa.Subquery) -> sa.ColumnElement[str]:
    """`upsell:<estimate>:<manager>`: once per opportunity and manager."""
    return "upsell:" + sa.cast(flags.c.estimate_id, sa.Text) + ":" + sa.cast(managers.c.id, sa.Text)


def _notify(ids: list[object], now: datetime) -> Insert:
    """A notification to every active manager about each new opportunity."""
    flags, managers = _flags(ids), _managers().subquery("managers")
    notices = sa.select(
        managers.c.id,
        sa.literal("upsell", sa.Text),
        _flagged(flags) + ".",
        "Ticket #"
        + sa.cast(flags.c.ticket, sa.Text)
        + " closed as end of life; a replacement opportunity for "
        + flags.c.customer_name
        + " is in the first stage of the pipeline.",
        flags.c.customer_id,
        flags.c.estimate_id,
        _key(flags, managers),
        sa.literal(now, sa.DateTime(timezone=True)),
    ).select_from(flags.join(managers, sa.true()))
    return notify_statement(notices)


def _emails(ids: list[object]) -> sa.Select:
    """The same news by email, to every active manager whose address can be emailed."""
    flags = _flags(ids)
    managers = _managers().where(email_sql(User.email)).subquery("managers")
    return sa.select(
        _key(flags, managers).label("idempotency_key"),
        managers.c.email.label("to_email"),
        managers.c.name.label("to_name"),
        ("Replacement lead: " + flags.c.customer_name).label("subject"),
        (
            _flagged(flags)
            + ".\n\nTicket #"
            + sa.cast(flags.c.ticket, sa.Text)
            + " was closed as end of life. The replacement opportunity is in the first stage "
            + "of the pipeline in SalesEngine.\n"
        ).label("body_text"),
    ).select_from(flags.join(managers, sa.true()))


@dataclass(frozen=True)
class UpsellReport:
    opportunities: int
    notifications: int
    emails: int


def sync(session: Session, *, now: datetime, limit: int = 10_000) -> UpsellReport:
    """Turn newly closed end-of-life tickets into opportunities (at most `limit` a run)."""
    created = session.execute(
        sa.text(_CREATE),
        {
            "pipeline": PIPELINE,
            "resolution": END_OF_LIFE_RESOLUTION,
            "now": now,
            "limit": limit,
            "unsafe": UNSAFE_SQL_PATTERN,
        },
    ).all()
    if not created:
        return UpsellReport(0, 0, 0)
    ids = [row.id for row in created]
    session.execute(sa.text(_HISTORY), {"ids": ids, "now": now})
    notify_activity(session, ActivityKind.stage_move)  # the new opportunities, on the feed
    notified = session.execute(_notify(ids, now)).all()
    system = system_user(session).id
    emailed = session.execute(enqueue_statement(_emails(ids), now=now, created_by=system)).all()
    return UpsellReport(len(created), len(notified), len(emailed))
