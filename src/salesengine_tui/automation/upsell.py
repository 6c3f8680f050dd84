"""Tech upsell sync: an "Equipment End of Life" ticket becomes a replacement opportunity,
exactly once per ticket, and every sales manager hears of it.

Tickets closed before the loop was switched on are history: the first run records a
watermark (`automation_marks` "upsell", at its "now") and later runs take only tickets closed
at or after it, so switching the runner on does not flag years of old closures. History becomes
opportunities only on request (`backfill`), with one summary per manager and no email.

A new opportunity belongs to the customer's owner when that owner is an active rep or manager
(else nobody's: a manager's "unassigned" filter), an owner rep is told too, and its value is
the median won value for that kind of equipment over the last 365 days, marked as an estimate
(`amount_estimated`); with no such deal it is $0 and not marked.

The tickets, equipment and customers come from the operations platform, which does not check
text the way our forms do: what is copied from them into an estimate title, a notification or
an email is cleaned on the way (`base.validation`'s list of unsafe characters: one space).

Set-based and in the caller's transaction: one statement creates the estimates (the unique
`estimates.source_ticket_id` makes a second run, or a second runner, create nothing), one
writes their stage history, two notify (managers, owner reps), one queues the managers'
emails, and one NOTIFY per pipeline tells open boards to show the new cards.
Reopening and closing the ticket again finds its estimate and creates nothing new.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session

from ..access.users import system_user
from ..activity.feed import ActivityKind, notify_activity
from ..base.validation import UNSAFE_SQL_PATTERN
from ..db.models import END_OF_LIFE_RESOLUTION
from ..deals.board_changes import BoardChange, notify_change
from ..email.outbox import enqueue_statement
from . import upsell_notices as notices

PIPELINE = "Residential Replacements"
WATERMARK = "upsell"  # its row in automation_marks
MEDIAN_DAYS = 365  # won deals this recent set a new opportunity's value
LIMIT = 10_000  # opportunities a regular run makes at most (the next run takes the rest)
UTC_ZONE = ZoneInfo("UTC")

# The literal, not a parameter: the planner then proves the partial index's predicate
# (`ix_tickets_end_of_life`: closed_at where the resolution is end of life) at plan time.
_END_OF_LIFE = "'" + END_OF_LIFE_RESOLUTION.replace("'", "''") + "'"

# What the INSERT reads: the pipeline's first stage, the tickets to flag, the medians.
_FLAGGED = """
WITH first_stage AS (
    SELECT s.id FROM deal_stages s JOIN deal_pipelines p ON p.id = s.pipeline_id
    WHERE p.name = :pipeline AND NOT s.is_won AND NOT s.is_lost
    ORDER BY s.position LIMIT 1
), flagged AS (
    SELECT t.id AS ticket_id, t.customer_id, t.equipment_id, t.technician_id,
           lower(eq.kind) AS kind_key,
           coalesce(nullif(btrim(regexp_replace(eq.kind, :unsafe, ' ', 'g')), ''), 'system') AS kind
    FROM tickets t
    LEFT JOIN equipment eq ON eq.id = t.equipment_id
    WHERE t.resolution = {end_of_life} AND t.status = 'closed'
      AND t.closed_at >= :since {before}
      AND NOT EXISTS (SELECT 1 FROM estimates e WHERE e.source_ticket_id = t.id)
    ORDER BY t.closed_at
    LIMIT :limit
), medians AS (
    -- Won deals of the same pipeline ($0 ones say nothing of a value), by equipment kind.
    SELECT lower(eq.kind) AS kind_key,
           round(CAST(percentile_cont(0.5) WITHIN GROUP (ORDER BY e.amount) AS numeric), 2)
               AS amount
    FROM estimates e
    JOIN deal_stages s ON s.id = e.stage_id AND s.is_won
    JOIN deal_pipelines p ON p.id = s.pipeline_id AND p.name = :pipeline
    JOIN equipment eq ON eq.id = e.equipment_id
    WHERE e.stage_entered_at >= :won_since AND e.amount > 0
      AND lower(eq.kind) IN (SELECT kind_key FROM flagged)
    GROUP BY lower(eq.kind)
)
"""

# The INSERT first (a statement is known by its start: pg_stat_activity shows only its first
# kilobyte), then what it reads.
_CREATE = """
INSERT INTO estimates (customer_id, title, amount, amount_estimated, status, equipment_id,
                       created_by, created_at, updated_at, stage_id, stage_entered_at, owner_id,
                       source_ticket_id)
{flagged}
SELECT f.customer_id, 'Replace ' || f.kind || ' (end of life)', coalesce(m.amount, 0),
       m.amount IS NOT NULL, 'draft', f.equipment_id, f.technician_id, :now, :now, fs.id, :now,
       owner.id, f.ticket_id
FROM flagged f
CROSS JOIN first_stage fs
JOIN customers c ON c.id = f.customer_id
LEFT JOIN users owner ON owner.id = c.owner_id AND owner.active
                     AND owner.role IN ('rep', 'manager')
LEFT JOIN medians m ON m.kind_key = f.kind_key
ON CONFLICT (source_ticket_id) DO NOTHING
RETURNING id, stage_id
"""

_HISTORY = """
INSERT INTO estimate_stage_history (estimate_id, to_stage_id, to_stage_name, moved_by, moved_at)
SELECT e.id, e.stage_id, s.name, e.created_by, :now
FROM estimates e JOIN deal_stages s ON s.id = e.stage_id
WHERE e.id = ANY(CAST(:ids AS uuid[]))
"""

_PIPELINES = "SELECT DISTINCT pipeline_id FROM deal_stages WHERE id = ANY(CAST(:ids AS uuid[]))"


@dataclass(frozen=True)
class UpsellReport:
    opportunities: int
    notifications: int
    emails: int
    watermark: datetime | None = None  # tickets closed before it are history
    watermark_set: bool = False  # this run set it (the first run): nothing came from history


def watermark(session: Session, *, now: datetime) -> tuple[datetime, bool]:
    """The upsell watermark, and whether this call set it (at `now`). Two first runs at once
    agree: the second one's insert waits for the first's and then finds its row."""
    inserted = session.execute(
        sa.text(
            "INSERT INTO automation_marks (name, at, set_at) VALUES (:name, :now, :now) "
            "ON CONFLICT (name) DO NOTHING RETURNING at"
        ),
        {"name": WATERMARK, "now": now},
    ).scalar()
    if inserted is not None:
        return inserted, True
    at = session.execute(
        sa.text("SELECT at FROM automation_marks WHERE name = :name"), {"name": WATERMARK}
    ).scalar_one()
    return at, False


def flagged_sql(*, before: bool) -> str:
    """The CTEs that pick the tickets (closed since `:since`, and before `:before` if asked)."""
    return _FLAGGED.format(
        end_of_life=_END_OF_LIFE, before="AND t.closed_at < :before" if before else ""
    )


def _create(
    session: Session, *, since: datetime, before: datetime | None, now: datetime, limit: int | None
) -> list[uuid.UUID]:
    """Opportunities for the end-of-life tickets closed in [since, before) that have none."""
    sql = _CREATE.format(flagged=flagged_sql(before=before is not None))
    params = {
        "pipeline": PIPELINE,
        "since": since,
        "now": now,
        "limit": limit,  # None: no limit
        "unsafe": UNSAFE_SQL_PATTERN,
        "won_since": now - timedelta(days=MEDIAN_DAYS),
        **({"before": before} if before else {}),
    }
    created = session.execute(sa.text(sql), params).all()
    if not created:
        return []
    ids = [row.id for row in created]
    session.execute(sa.text(_HISTORY), {"ids": ids, "now": now})
    notify_activity(session, ActivityKind.stage_move)  # the new opportunities, on the feed
    # One NOTIFY per pipeline, "many" cards: a board loads that pipeline again.
    stages = list({row.stage_id for row in created})
    for pipeline_id in session.execute(sa.text(_PIPELINES), {"ids": stages}).scalars():
        change = BoardChange(pipeline_id=pipeline_id, estimate_id=ids[0], by=None, kind="many")
        notify_change(session, change)
    return ids


def sync(
    session: Session, *, now: datetime, limit: int = LIMIT, tz: ZoneInfo = UTC_ZONE
) -> UpsellReport:
    """Turn end-of-life tickets closed since the watermark (set now by the first run) into
    opportunities (at most `limit` a run), each news to the managers and an owner rep. `tz`:
    where the date of a close older than a day is told."""
    mark, first = watermark(session, now=now)
    ids = _create(session, since=mark, before=None, now=now, limit=limit)
    if not ids:
        return UpsellReport(0, 0, 0, mark, first)
    notified = session.execute(notices.to_managers(ids, now, tz)).all()
    notified += session.execute(notices.to_owner_reps(ids, now, tz)).all()
    system = system_user(session).id
    emailed = session.execute(
        enqueue_statement(notices.manager_emails(ids, now, tz), now=now, created_by=system)
    ).all()
    return UpsellReport(len(ids), len(notified), len(emailed), mark, first)


def backfill_start(since: date, tz: ZoneInfo) -> datetime:
    """The start of `since` where the business is."""
    return datetime.combine(since, time(), tzinfo=tz)


def backfill(session: Session, *, since: date, tz: ZoneInfo, now: datetime) -> UpsellReport:
    """History on request: end-of-life tickets closed from the start of `since` (business
    time) up to the watermark become opportunities, in one statement, with one summary
    notification per manager and no email. Running it again creates nothing and tells nobody
    twice (the summary's dedupe key names the date)."""
    mark, first = watermark(session, now=now)
    ids = _create(session, since=backfill_start(since, tz), before=mark, now=now, limit=None)
    if not ids:
        return UpsellReport(0, 0, 0, mark, first)
    summary = notices.backfill_summary(len(ids), since, now)
    notified = session.execute(summary).all()
    return UpsellReport(len(ids), len(notified), 0, mark, first)
