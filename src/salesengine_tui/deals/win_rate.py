"""Deals decided in a window: won and lost, the win rate, days to close, the funnel, and won
value per week.

Decided in the window means: now in a Won or Lost stage, entered in the last `WINDOW_DAYS` (the
stage entry the history row recorded; a win that was undone no longer counts). Days to close run
from the deal's first stage-history row to its entry into Won. In the funnel every decided deal
entered the pipeline, a won deal went through every open stage, and a lost deal reached the stage
it was lost from (its last history row). Weeks start on Monday in the business time zone.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session

from .rotting import calendar_days_sql, local_today, sql_params

WINDOW_DAYS = 90
WEEKS = 12


@dataclass(frozen=True)
class Outcomes:
    """Deals decided (moved into Won or Lost) in the window."""

    days: int
    won: int
    lost: int
    won_value: Decimal
    avg_days_to_close: float | None  # None: nothing won in the window

    @property
    def decided(self) -> int:
        return self.won + self.lost

    @property
    def win_rate(self) -> float | None:
        """Won / (won + lost), 0..1; None when nothing was decided."""
        return self.won / self.decided if self.decided else None


@dataclass(frozen=True)
class FunnelStep:
    """How many of the window's decided deals got at least as far as this stage."""

    name: str
    reached: int
    is_won: bool = False


@dataclass(frozen=True)
class WeekWon:
    week: date  # the Monday the week starts on (business time zone)
    value: Decimal
    count: int


def week_start(day: date) -> date:
    """The Monday of `day`'s week."""
    return day - timedelta(days=day.weekday())


_OUTCOMES = """
SELECT count(*) FILTER (WHERE c.is_won) AS won,
       count(*) FILTER (WHERE c.is_lost) AS lost,
       coalesce(sum(e.amount) FILTER (WHERE c.is_won), 0) AS won_value,
       avg(extract(epoch FROM e.stage_entered_at - CASE WHEN c.is_won THEN coalesce(
               -- when a won deal entered the pipeline: its first stage-history row
               (SELECT min(h.moved_at) FROM estimate_stage_history h WHERE h.estimate_id = e.id),
               e.created_at) END) / 86400) AS avg_days_to_close
FROM deal_stages c
JOIN estimates e ON e.stage_id = c.id
WHERE c.pipeline_id = :pipeline AND (c.is_won OR c.is_lost)
  AND e.stage_entered_at >= :since AND e.stage_entered_at < :now
"""


def outcomes(
    session: Session, pipeline_id: uuid.UUID, *, now: datetime, days: int = WINDOW_DAYS
) -> Outcomes:
    """Won and lost in the last `days` days, the win rate and the average days to close."""
    row = session.execute(
        sa.text(_OUTCOMES),
        {"pipeline": pipeline_id, "now": now, "since": now - timedelta(days=days)},
    ).one()
    avg = row.avg_days_to_close
    return Outcomes(
        days=days,
        won=row.won,
        lost=row.lost,
        won_value=row.won_value,
        avg_days_to_close=None if avg is None else float(avg),
    )


_FUNNEL = """
WITH stages AS (
    SELECT id, name, position, is_won, is_lost FROM deal_stages WHERE pipeline_id = :pipeline
), decided AS MATERIALIZED (
    SELECT c.is_won,
           CASE WHEN c.is_lost THEN (
               -- the stage it was lost from: its last move (the one into Lost)
               SELECT h.from_stage_id FROM estimate_stage_history h
               WHERE h.estimate_id = e.id ORDER BY h.moved_at DESC LIMIT 1
           ) END AS lost_from
    FROM stages c JOIN estimates e ON e.stage_id = c.id
    WHERE (c.is_won OR c.is_lost)
      AND e.stage_entered_at >= :since AND e.stage_entered_at < :now
), lost_at AS (
    SELECT f.position, count(*) AS n
    FROM decided d JOIN stages f ON f.id = d.lost_from AND NOT f.is_won AND NOT f.is_lost
    GROUP BY f.position
), totals AS (
    SELECT count(*) AS decided, count(*) FILTER (WHERE is_won) AS won FROM decided
)
SELECT s.name, s.is_won,
       CASE
           WHEN s.is_won THEN t.won
           WHEN s.position = (SELECT min(position) FROM stages WHERE NOT is_won AND NOT is_lost)
               THEN t.decided
           ELSE t.won + coalesce(
               (SELECT sum(n) FROM lost_at WHERE lost_at.position >= s.position), 0)
       END AS reached
FROM stages s CROSS JOIN totals t
WHERE NOT s.is_lost
ORDER BY s.is_won, s.position
"""


def funnel(
    session: Session, pipeline_id: uuid.UUID, *, now: datetime, days: int = WINDOW_DAYS
) -> list[FunnelStep]:
    """The open stages then Won: how many deals decided in the window got that far."""
    rows = session.execute(
        sa.text(_FUNNEL),
        {"pipeline": pipeline_id, "now": now, "since": now - timedelta(days=days)},
    )
    return [FunnelStep(name=r.name, reached=int(r.reached), is_won=r.is_won) for r in rows]


_WEEKLY = f"""
WITH won AS (
    SELECT {calendar_days_sql("e.stage_entered_at")} AS days_ago,
           e.amount
    FROM deal_stages c JOIN estimates e ON e.stage_id = c.id
    WHERE c.pipeline_id = :pipeline AND c.is_won
      AND e.stage_entered_at >= :since AND e.stage_entered_at < :now
), weeks AS (
    SELECT (CAST(:weeks AS int) - 1) - ((days_ago + CAST(:monday_offset AS int)) / 7) AS week,
           count(*) AS n, sum(amount) AS value
    FROM won GROUP BY 1
)
SELECT g.week, coalesce(w.n, 0) AS count, coalesce(w.value, 0) AS value
FROM generate_series(0, CAST(:weeks AS int) - 1) AS g(week)
LEFT JOIN weeks w ON w.week = g.week
ORDER BY g.week
"""


def weekly_won(
    session: Session,
    pipeline_id: uuid.UUID,
    *,
    now: datetime,
    tz: ZoneInfo,
    weeks: int = WEEKS,
) -> list[WeekWon]:
    """Won value per week (Monday to Sunday, business time zone), `weeks` weeks up to this one."""
    today = local_today(now, tz)
    first = week_start(today) - timedelta(weeks=weeks - 1)
    since = datetime(first.year, first.month, first.day, tzinfo=tz)
    rows = session.execute(
        sa.text(_WEEKLY),
        {
            **sql_params(now, tz),
            "pipeline": pipeline_id,
            "since": since,
            "weeks": weeks,
            # days_ago + this, integer-divided by 7, is how many weeks back the day's week is
            "monday_offset": 6 - today.weekday(),
        },
    )
    return [
        WeekWon(week=first + timedelta(weeks=r.week), value=r.value, count=r.count) for r in rows
    ]
