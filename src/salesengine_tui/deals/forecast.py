"""The open stages of a pipeline now: count, value, weighted forecast (value x probability)
and how many are rotting, each an index-only aggregate per stage (`ix_estimates_stage_amount`,
`ix_estimates_board`); the pipeline's most overdue rotting deals, the oldest cards of each
stage read by an index range; and the forecast by expected close month. Days in stage and
rotting are `rotting`'s rule.

The forecast by close month puts each open deal of the pipeline in one bucket by its expected
close date, counted in the business time zone: overdue (a date before today, still open), this
month (today to its end), each of the next `CLOSE_MONTHS - 1` months, later, and no close
date. Each bucket has the deals' count, value and weighted value (the sum of value x its
stage's probability, rounded to the cent once per bucket); the buckets add up to the open
stages' figures.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session

from .rotting import days_in_stage_sql, local_today, rotting_before_sql, sql_params

ROTTING_LIMIT = 20
CLOSE_MONTHS = 6  # this month and the next five


@dataclass(frozen=True)
class StageFigures:
    """One open stage of the pipeline, now."""

    id: uuid.UUID
    name: str
    position: int
    probability: int
    rotting_days: int | None
    count: int
    value: Decimal
    weighted: Decimal  # value x probability / 100
    rotting: int  # deals at or over the stage's rotting threshold


@dataclass(frozen=True)
class RottingDeal:
    estimate_id: uuid.UUID
    number: int
    title: str
    amount: Decimal
    customer_id: uuid.UUID
    customer_name: str
    stage_name: str
    owner_name: str | None
    days_in_stage: int
    days_over: int  # days past the stage's threshold (0: rotting since today)
    owner_initials: str | None = None  # unique on the desk (the dashboard's narrow column)


_STAGES = f"""
SELECT s.id, s.name, s.position, s.probability, s.rotting_days,
       t.n AS count, t.value, round(t.value * s.probability / 100, 2) AS weighted,
       coalesce(r.n, 0) AS rotting
FROM deal_stages s
CROSS JOIN LATERAL (
    SELECT count(*) AS n, coalesce(sum(e.amount), 0) AS value
    FROM estimates e WHERE e.stage_id = s.id
) t
LEFT JOIN LATERAL (
    SELECT count(*) AS n FROM estimates e
    WHERE e.stage_id = s.id AND e.stage_entered_at < {rotting_before_sql("s")}
) r ON s.rotting_days IS NOT NULL
WHERE s.pipeline_id = :pipeline AND NOT s.is_won AND NOT s.is_lost
ORDER BY s.position
"""


def stage_figures(
    session: Session, pipeline_id: uuid.UUID, *, now: datetime, tz: ZoneInfo
) -> list[StageFigures]:
    """The pipeline's open stages in board order, counted and summed."""
    rows = session.execute(sa.text(_STAGES), {**sql_params(now, tz), "pipeline": pipeline_id})
    return [StageFigures(**row._mapping) for row in rows]


_ROTTING = f"""
SELECT d.id AS estimate_id, d.number, d.title, d.amount, d.customer_id,
       c.name AS customer_name, s.name AS stage_name, u.name AS owner_name,
       d.days_in_stage, d.days_in_stage - s.rotting_days AS days_over,
       u.initials AS owner_initials
FROM deal_stages s
CROSS JOIN LATERAL (
    -- the stage's oldest cards first: an index range on (stage_id, stage_entered_at)
    SELECT e.id, e.number, e.title, e.amount, e.customer_id, e.owner_id, e.stage_entered_at,
           {days_in_stage_sql("e")} AS days_in_stage
    FROM estimates e
    WHERE e.stage_id = s.id AND e.stage_entered_at < {rotting_before_sql("s")}
    ORDER BY e.stage_entered_at, e.id
    LIMIT :limit
) d
JOIN customers c ON c.id = d.customer_id
LEFT JOIN users u ON u.id = d.owner_id
WHERE s.pipeline_id = :pipeline AND s.rotting_days IS NOT NULL
  AND NOT s.is_won AND NOT s.is_lost
ORDER BY days_over DESC, d.stage_entered_at, d.id
LIMIT :limit
"""


def rotting_deals(
    session: Session,
    pipeline_id: uuid.UUID,
    *,
    now: datetime,
    tz: ZoneInfo,
    limit: int = ROTTING_LIMIT,
) -> list[RottingDeal]:
    """The pipeline's most overdue deals (days past their stage's rotting threshold)."""
    rows = session.execute(
        sa.text(_ROTTING), {**sql_params(now, tz), "pipeline": pipeline_id, "limit": limit}
    )
    return [RottingDeal(**row._mapping) for row in rows]


# --- the forecast by expected close month -----------------------------------------------------


class CloseBucket(StrEnum):
    overdue = "overdue"  # an expected close date before today, the deal still open
    month = "month"  # a calendar month: this one, or one of the next CLOSE_MONTHS - 1
    later = "later"  # after those
    undated = "undated"  # no expected close date


@dataclass(frozen=True)
class CloseMonth:
    """One bucket of the forecast by expected close month."""

    bucket: CloseBucket
    month: date | None  # the month's first day (bucket `month` only)
    count: int
    value: Decimal
    weighted: Decimal  # sum of value x probability / 100, rounded once


# The bucket as a number: -2 no date, -1 overdue, 0 this month, 1.. the months after,
# CLOSE_MONTHS later. Months are counted on the calendar, not in 30-day steps.
_CLOSE_MONTHS = """
SELECT k.bucket, count(*) AS count, coalesce(sum(e.amount), 0) AS value,
       round(coalesce(sum(e.amount * s.probability), 0) / 100, 2) AS weighted
FROM deal_stages s
JOIN estimates e ON e.stage_id = s.id
CROSS JOIN LATERAL (
    SELECT CASE
        WHEN e.expected_close_on IS NULL THEN -2
        WHEN e.expected_close_on < CAST(:today AS date) THEN -1
        ELSE least(
            (date_part('year', e.expected_close_on) * 12
             + date_part('month', e.expected_close_on))::int
            - (date_part('year', CAST(:today AS date)) * 12
               + date_part('month', CAST(:today AS date)))::int,
            :months)
    END AS bucket
) k
WHERE s.pipeline_id = :pipeline AND NOT s.is_won AND NOT s.is_lost
GROUP BY k.bucket
"""


def _add_months(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def close_months(
    session: Session, pipeline_id: uuid.UUID, *, now: datetime, tz: ZoneInfo
) -> list[CloseMonth]:
    """The pipeline's open deals by expected close month, every bucket present (zeros where
    none): overdue, this month and the next CLOSE_MONTHS - 1, later, no close date."""
    today = local_today(now, tz)
    rows = session.execute(
        sa.text(_CLOSE_MONTHS),
        {"today": today, "pipeline": pipeline_id, "months": CLOSE_MONTHS},
    )
    found = {row.bucket: row for row in rows}
    this_month = today.replace(day=1)
    shape: list[tuple[int, CloseBucket, date | None]] = [(-1, CloseBucket.overdue, None)]
    shape += [(m, CloseBucket.month, _add_months(this_month, m)) for m in range(CLOSE_MONTHS)]
    shape += [(CLOSE_MONTHS, CloseBucket.later, None), (-2, CloseBucket.undated, None)]
    out = []
    for key, bucket, month in shape:
        row = found.get(key)
        out.append(
            CloseMonth(
                bucket=bucket,
                month=month,
                count=row.count if row else 0,
                value=row.value if row else Decimal(0),
                weighted=row.weighted if row else Decimal(0),
            )
        )
    return out
