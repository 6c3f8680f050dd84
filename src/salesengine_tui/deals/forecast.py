"""The open stages of a pipeline now: count, value, weighted forecast (value x probability)
and how many are rotting, each an index-only aggregate per stage (`ix_estimates_stage_amount`,
`ix_estimates_board`); and the pipeline's most overdue rotting deals, the oldest cards of each
stage read by an index range. Days in stage and rotting are `rotting`'s rule.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session

from .rotting import days_in_stage_sql, rotting_before_sql, sql_params

ROTTING_LIMIT = 20


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
       d.days_in_stage, d.days_in_stage - s.rotting_days AS days_over
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
