"""The sales dashboard's figures: SQL aggregates over one pipeline, and what is due for me.

Plain functions over a Session returning frozen dataclasses; no Textual. Every count, sum and
average is computed by PostgreSQL, each statement driven by an index range so the cost grows
with what is shown (deals decided in the window, the oldest cards of each stage, my own deals),
not with the tables:

- open stages: count, value, weighted forecast (value x probability) and how many are rotting,
  each an index-only aggregate per stage (`ix_estimates_stage_amount`, `ix_estimates_board`);
- won and lost in the last `WINDOW_DAYS`: deals now in a Won or Lost stage that entered it in
  the window (the stage entry the history row recorded; a win that was undone no longer
  counts), win rate = won / (won + lost); days to close from the deal's first stage-history
  row to its entry into Won;
- the funnel of those decided deals: every deal entered the pipeline, a won deal went through
  every open stage, a lost deal reached the stage it was lost from (its last history row);
- won value per week for the last `WEEKS` weeks (weeks start on Monday, business time zone);
- rotting deals: days in stage (calendar days in the business time zone, as on the board) at
  or over the stage's `rotting_days`, the most overdue first;
- due today for the acting user: next steps due by the end of today (overdue ones too) on
  customers they own, and their own rotting deals.

`load` gathers the whole dashboard, its statements run side by side on their own sessions
(the slowest, not the sum, sets how soon the dashboard can paint).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session

from .activity import ActivityItem, recent_activity
from .leads import end_of_day
from .pipeline import PipelineInfo, list_pipelines

WINDOW_DAYS = 90
WEEKS = 12
ROTTING_LIMIT = 20
DUE_LIMIT = 30
ZERO = Decimal(0)
T = TypeVar("T")

# A stage's rotting cut-off: cards that entered before local midnight of (today - rotting_days
# + 1) have been in the stage `rotting_days` calendar days or more.
_ROTTING_BEFORE = (
    "((CAST(:today AS date) - s.rotting_days + 1)::timestamp AT TIME ZONE CAST(:tz AS text))"
)


def _days_in_stage(card: str) -> str:
    """Calendar days in the business time zone since `card` (an alias) entered its stage."""
    return (
        f"(CAST(:today AS date) - ({card}.stage_entered_at AT TIME ZONE CAST(:tz AS text))::date)"
    )


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


class DueKind(StrEnum):
    next_step = "next_step"
    rotting = "rotting"


@dataclass(frozen=True)
class DueItem:
    """Something the acting user should do today: a customer's next step, or a rotting deal."""

    kind: DueKind
    customer_id: uuid.UUID
    customer_name: str
    text: str | None  # the next step, or the deal's title
    at: datetime | None = None  # when the next step is due
    overdue_days: int = 0  # next step: calendar days past due; rotting: days over threshold
    estimate_number: int | None = None
    stage_name: str | None = None
    amount: Decimal | None = None

    @property
    def key(self) -> str:
        return f"{self.kind.value}:{self.customer_id}:{self.estimate_number or ''}"


@dataclass(frozen=True)
class Due:
    items: list[DueItem]  # next steps (earliest first), then rotting deals (most overdue)
    next_steps: int  # how many next steps are due (the list may show fewer)
    rotting: int  # how many of my deals are rotting


@dataclass(frozen=True)
class PipelineFigures:
    """Everything the dashboard shows for one pipeline."""

    pipeline: PipelineInfo
    stages: list[StageFigures]
    outcomes: Outcomes
    funnel: list[FunnelStep]
    weekly_won: list[WeekWon]  # oldest week first, `WEEKS` of them, this week last
    rotting: list[RottingDeal]

    @property
    def open_count(self) -> int:
        return sum(s.count for s in self.stages)

    @property
    def open_value(self) -> Decimal:
        return sum((s.value for s in self.stages), ZERO)

    @property
    def weighted(self) -> Decimal:
        return sum((s.weighted for s in self.stages), ZERO)

    @property
    def rotting_count(self) -> int:
        return sum(s.rotting for s in self.stages)


def local_today(now: datetime, tz: ZoneInfo) -> date:
    return now.astimezone(tz).date()


def week_start(day: date) -> date:
    """The Monday of `day`'s week."""
    return day - timedelta(days=day.weekday())


def _params(now: datetime, tz: ZoneInfo) -> dict[str, object]:
    return {"now": now, "today": local_today(now, tz), "tz": tz.key}


# --- one pipeline -------------------------------------------------------------------------

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
    WHERE e.stage_id = s.id AND e.stage_entered_at < {_ROTTING_BEFORE}
) r ON s.rotting_days IS NOT NULL
WHERE s.pipeline_id = :pipeline AND NOT s.is_won AND NOT s.is_lost
ORDER BY s.position
"""


def stage_figures(
    session: Session, pipeline_id: uuid.UUID, *, now: datetime, tz: ZoneInfo
) -> list[StageFigures]:
    """The pipeline's open stages in board order, counted and summed."""
    rows = session.execute(sa.text(_STAGES), {**_params(now, tz), "pipeline": pipeline_id})
    return [StageFigures(**row._mapping) for row in rows]


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


_WEEKLY = """
WITH won AS (
    SELECT (CAST(:today AS date) - (e.stage_entered_at AT TIME ZONE CAST(:tz AS text))::date)
               AS days_ago,
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
            **_params(now, tz),
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


_ROTTING = f"""
SELECT d.id AS estimate_id, d.number, d.title, d.amount, d.customer_id,
       c.name AS customer_name, s.name AS stage_name, u.name AS owner_name,
       d.days_in_stage, d.days_in_stage - s.rotting_days AS days_over
FROM deal_stages s
CROSS JOIN LATERAL (
    -- the stage's oldest cards first: an index range on (stage_id, stage_entered_at)
    SELECT e.id, e.number, e.title, e.amount, e.customer_id, e.owner_id, e.stage_entered_at,
           {_days_in_stage("e")} AS days_in_stage
    FROM estimates e
    WHERE e.stage_id = s.id AND e.stage_entered_at < {_ROTTING_BEFORE}
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
        sa.text(_ROTTING), {**_params(now, tz), "pipeline": pipeline_id, "limit": limit}
    )
    return [RottingDeal(**row._mapping) for row in rows]


def pipeline_figures(
    session: Session,
    pipeline: PipelineInfo,
    *,
    now: datetime,
    tz: ZoneInfo,
    days: int = WINDOW_DAYS,
) -> PipelineFigures:
    return PipelineFigures(
        pipeline=pipeline,
        stages=stage_figures(session, pipeline.id, now=now, tz=tz),
        outcomes=outcomes(session, pipeline.id, now=now, days=days),
        funnel=funnel(session, pipeline.id, now=now, days=days),
        weekly_won=weekly_won(session, pipeline.id, now=now, tz=tz),
        rotting=rotting_deals(session, pipeline.id, now=now, tz=tz),
    )


def pick_pipeline(
    pipelines: list[PipelineInfo], pipeline_id: uuid.UUID | None
) -> PipelineInfo | None:
    """`pipeline_id` if it still exists, else the first pipeline (None: there are none)."""
    return next((p for p in pipelines if p.id == pipeline_id), pipelines[0] if pipelines else None)


def load_pipeline(
    session: Session, pipeline_id: uuid.UUID | None, *, now: datetime, tz: ZoneInfo
) -> tuple[list[PipelineInfo], PipelineFigures | None]:
    """All pipelines, and the figures of `pipeline_id` (or of the first one)."""
    pipelines = list_pipelines(session)
    chosen = pick_pipeline(pipelines, pipeline_id)
    figures = None if chosen is None else pipeline_figures(session, chosen, now=now, tz=tz)
    return pipelines, figures


# --- mine -----------------------------------------------------------------------------------

_NEXT_STEPS = """
SELECT c.id AS customer_id, c.name AS customer_name, c.next_step, c.next_step_at,
       CAST(:today AS date) - (c.next_step_at AT TIME ZONE CAST(:tz AS text))::date
           AS overdue_days,
       count(*) OVER () AS total
FROM customers c
WHERE c.owner_id = :me AND c.next_step_at < :end_of_day
ORDER BY c.next_step_at, c.id
LIMIT :limit
"""

_MY_ROTTING = f"""
WITH stages AS MATERIALIZED (
    -- each stage's cut-off computed once, not once per card
    SELECT s.id, s.name, s.rotting_days, {_ROTTING_BEFORE} AS rot_before
    FROM deal_stages s
    WHERE s.rotting_days IS NOT NULL AND NOT s.is_won AND NOT s.is_lost
)
SELECT m.customer_id, c.name AS customer_name, m.title, m.number, m.amount, m.stage_name,
       {_days_in_stage("m")} - m.rotting_days AS days_over,
       (SELECT count(*) FROM estimates e JOIN stages st ON st.id = e.stage_id
        WHERE e.owner_id = :me AND e.stage_entered_at < st.rot_before) AS total
FROM (
    SELECT e.id, e.customer_id, e.title, e.number, e.amount, e.stage_entered_at,
           st.name AS stage_name, st.rotting_days, st.rot_before - e.stage_entered_at AS over
    FROM estimates e JOIN stages st ON st.id = e.stage_id
    WHERE e.owner_id = :me AND e.stage_entered_at < st.rot_before
    ORDER BY over DESC, e.id
    LIMIT :limit
) m
-- customers' names for the few shown only; the total counts them all
JOIN customers c ON c.id = m.customer_id
ORDER BY m.over DESC, m.id
"""


def due_today(
    session: Session,
    user_id: uuid.UUID,
    *,
    now: datetime,
    tz: ZoneInfo,
    limit: int = DUE_LIMIT,
) -> Due:
    """The acting user's next steps due by the end of today (the overdue ones too), and their
    rotting deals in every pipeline. Totals are counted by SQL past the `limit` shown."""
    params = {**_params(now, tz), "me": user_id, "limit": limit}
    steps = session.execute(
        sa.text(_NEXT_STEPS), {**params, "end_of_day": end_of_day(now, tz)}
    ).all()
    rotting = session.execute(sa.text(_MY_ROTTING), params).all()
    items = [
        DueItem(
            kind=DueKind.next_step,
            customer_id=r.customer_id,
            customer_name=r.customer_name,
            text=r.next_step,
            at=r.next_step_at,
            overdue_days=max(0, r.overdue_days),
        )
        for r in steps
    ] + [
        DueItem(
            kind=DueKind.rotting,
            customer_id=r.customer_id,
            customer_name=r.customer_name,
            text=r.title,
            overdue_days=r.days_over,
            estimate_number=r.number,
            stage_name=r.stage_name,
            amount=r.amount,
        )
        for r in rotting
    ]
    return Due(
        items=items,
        next_steps=steps[0].total if steps else 0,
        rotting=rotting[0].total if rotting else 0,
    )


# --- the whole dashboard ----------------------------------------------------------------------


@dataclass(frozen=True)
class Dashboard:
    as_of: datetime
    pipelines: list[PipelineInfo]
    figures: PipelineFigures | None  # None: there are no pipelines
    due: Due
    activity: list[ActivityItem]


def load(
    open_session: Callable[[], Session],
    *,
    pipeline_id: uuid.UUID | None,
    user_id: uuid.UUID,
    now: datetime,
    tz: ZoneInfo,
) -> Dashboard:
    """Everything the dashboard shows, for `pipeline_id` (or the first pipeline): the parts
    run concurrently, each on a session of its own from `open_session` (read-only)."""

    def run(part: Callable[[Session], T]) -> T:
        with open_session() as session:
            return part(session)

    with open_session() as session:
        pipelines = list_pipelines(session)
    chosen = pick_pipeline(pipelines, pipeline_id)
    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="dashboard") as pool:
        figures = None
        if chosen is not None:
            pid = chosen.id
            # The two slowest first: they probe the stage history once per decided deal.
            won_lost = pool.submit(run, lambda s: outcomes(s, pid, now=now))
            steps = pool.submit(run, lambda s: funnel(s, pid, now=now))
            stages = pool.submit(run, lambda s: stage_figures(s, pid, now=now, tz=tz))
            rotting = pool.submit(run, lambda s: rotting_deals(s, pid, now=now, tz=tz))
            weekly = pool.submit(run, lambda s: weekly_won(s, pid, now=now, tz=tz))
        due = pool.submit(run, lambda s: due_today(s, user_id, now=now, tz=tz))
        feed = pool.submit(run, recent_activity)
        if chosen is not None:
            figures = PipelineFigures(
                pipeline=chosen,
                stages=stages.result(),
                outcomes=won_lost.result(),
                funnel=steps.result(),
                weekly_won=weekly.result(),
                rotting=rotting.result(),
            )
        return Dashboard(
            as_of=now,
            pipelines=pipelines,
            figures=figures,
            due=due.result(),
            activity=feed.result(),
        )
