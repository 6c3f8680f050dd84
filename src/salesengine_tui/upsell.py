"""Tech upsell sync (plan 3B): an "Equipment End of Life" ticket becomes a replacement
opportunity, exactly once per ticket, and every sales manager hears of it.

Set-based and in the caller's transaction: one statement creates the estimates (the unique
`estimates.source_ticket_id` makes a second run, or a second runner, create nothing), one
writes their stage history, one notifies the managers, one queues the managers' emails.
Reopening and closing the ticket again finds its estimate and creates nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from .activity import ActivityKind, notify_activity
from .db.models import END_OF_LIFE_RESOLUTION
from .users import system_user

PIPELINE = "Residential Replacements"

_CREATE = """
WITH first_stage AS (
    SELECT s.id, s.name FROM deal_stages s JOIN deal_pipelines p ON p.id = s.pipeline_id
    WHERE p.name = :pipeline AND NOT s.is_won AND NOT s.is_lost
    ORDER BY s.position LIMIT 1
), flagged AS (
    SELECT t.id AS ticket_id, t.customer_id, t.equipment_id, t.technician_id, t.closed_at,
           coalesce(eq.kind, 'system') AS kind
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

_FLAGS = """
SELECT e.id AS estimate_id, e.customer_id, t.number AS ticket,
       coalesce(tech.name, 'A technician') AS tech,
       coalesce(nullif(concat_ws(', ', c.address, c.city), ''), c.name) AS place,
       c.name AS customer_name
FROM estimates e
JOIN tickets t ON t.id = e.source_ticket_id
JOIN customers c ON c.id = e.customer_id
LEFT JOIN users tech ON tech.id = t.technician_id
WHERE e.id = ANY(CAST(:ids AS uuid[]))
"""

_NOTIFY = (
    "WITH flags AS ("
    + _FLAGS
    + """), managers AS (
    SELECT id, email, name FROM users WHERE active AND role = 'manager'
)
INSERT INTO notifications (user_id, kind, title, body, customer_id, estimate_id, dedupe_key,
                           created_at)
SELECT m.id, 'upsell',
       'Tech ' || f.tech || ' just flagged a system for replacement at ' || f.place || '.',
       'Ticket #' || f.ticket || ' closed as end of life; a replacement opportunity for '
           || f.customer_name || ' is in the first stage of the pipeline.',
       f.customer_id, f.estimate_id, 'upsell:' || f.estimate_id || ':' || m.id, :now
FROM flags f CROSS JOIN managers m
ON CONFLICT (dedupe_key) DO NOTHING
RETURNING id
"""
)

_EMAIL = (
    "WITH flags AS ("
    + _FLAGS
    + r"""), managers AS (
    SELECT id, email, name FROM users
    WHERE active AND role = 'manager'
      AND coalesce(email, '') ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$'
)
INSERT INTO email_outbox (idempotency_key, to_email, to_name, subject, body_text, is_campaign,
                          created_by, created_at, next_attempt_at)
SELECT 'upsell:' || f.estimate_id || ':' || m.id, m.email,
       regexp_replace(m.name, '[[:cntrl:]]', ' ', 'g'),
       regexp_replace('Replacement lead: ' || f.customer_name, '[[:cntrl:]]', ' ', 'g'),
       'Tech ' || f.tech || ' just flagged a system for replacement at ' || f.place
           || E'.\n\nTicket #' || f.ticket || E' was closed as end of life. The replacement '
           || E'opportunity is in the first stage of the pipeline in SalesEngine.\n',
       false, :system_user, :now, :now
FROM flags f CROSS JOIN managers m
ON CONFLICT (idempotency_key) DO NOTHING
RETURNING id
"""
)


@dataclass(frozen=True)
class UpsellReport:
    opportunities: int
    notifications: int
    emails: int


def sync(session: Session, *, now: datetime, limit: int = 10_000) -> UpsellReport:
    """Turn newly closed end-of-life tickets into opportunities (at most `limit` a run)."""
    created = session.execute(
        sa.text(_CREATE),
        {"pipeline": PIPELINE, "resolution": END_OF_LIFE_RESOLUTION, "now": now, "limit": limit},
    ).all()
    if not created:
        return UpsellReport(0, 0, 0)
    ids = [row.id for row in created]
    session.execute(sa.text(_HISTORY), {"ids": ids, "now": now})
    notify_activity(session, ActivityKind.stage_move)  # the new opportunities, on the feed
    notified = session.execute(sa.text(_NOTIFY), {"ids": ids, "now": now}).all()
    system = system_user(session).id
    emailed = session.execute(
        sa.text(_EMAIL), {"ids": ids, "now": now, "system_user": system}
    ).all()
    return UpsellReport(len(created), len(notified), len(emailed))
