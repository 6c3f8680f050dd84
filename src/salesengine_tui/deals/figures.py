"""The sales dashboard's figures: SQL aggregates over one pipeline, and what is due for me.

Plain functions over a Session returning frozen dataclasses; no Textual. Every count, sum and
average is computed by PostgreSQL, each statement driven by an index range so the cost grows
with what is shown (deals decided in the window, the oldest cards of each stage, my own deals),
not with the tables. The figures live by subject:

- `forecast`: the open stages (count, value, weighted forecast, rotting), the rotting deals,
  and the forecast by expected close month;
- `win_rate`: won and lost in the last `WINDOW_DAYS`, the funnel, won value per week;
- `my_day`: the acting user's tasks due today (and overdue) and their own rotting deals;
- `rotting`: days in stage and the rotting rule, the same on the board.

`load` gathers the whole dashboard, its statements run side by side on their own sessions
(the slowest, not the sum, sets how soon the dashboard can paint), as many at once as the
caller's connection pool can lend without waiting (`at_once`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlmodel import Session

from ..activity.feed import ActivityItem, recent_activity
from .forecast import (
    _CLOSE_MONTHS,
    _ROTTING,
    _STAGES,
    CLOSE_MONTHS,
    ROTTING_LIMIT,
    CloseBucket,
    CloseMonth,
    RottingDeal,
    StageFigures,
    close_months,
    rotting_deals,
    stage_figures,
)
from .my_day import _MY_ROTTING, DUE_LIMIT, Due, DueItem, DueKind, due_today
from .pipelines import PipelineInfo, list_pipelines
from .rotting import local_today
from .win_rate import (
    _FUNNEL,
    _OUTCOMES,
    _WEEKLY,
    WEEKS,
    WINDOW_DAYS,
    FunnelStep,
    Outcomes,
    WeekWon,
    funnel,
    outcomes,
    week_start,
    weekly_won,
)

__all__ = [
    "CLOSE_MONTHS",
    "DUE_LIMIT",
    "ROTTING_LIMIT",
    "WEEKS",
    "WINDOW_DAYS",
    "_CLOSE_MONTHS",
    "_FUNNEL",
    "_MY_ROTTING",
    "_OUTCOMES",
    "_ROTTING",
    "_STAGES",
    "_WEEKLY",
    "CloseBucket",
    "CloseMonth",
    "Dashboard",
    "Due",
    "DueItem",
    "DueKind",
    "FunnelStep",
    "Outcomes",
    "PipelineFigures",
    "RottingDeal",
    "StageFigures",
    "WeekWon",
    "close_months",
    "due_today",
    "funnel",
    "load",
    "local_today",
    "outcomes",
    "pick_pipeline",
    "pipeline_figures",
    "rotting_deals",
    "stage_figures",
    "week_start",
    "weekly_won",
]

ZERO = Decimal(0)
T = TypeVar("T")


@dataclass(frozen=True)
class PipelineFigures:
    """Everything the dashboard shows for one pipeline."""

    pipeline: PipelineInfo
    stages: list[StageFigures]
    outcomes: Outcomes
    funnel: list[FunnelStep]
    weekly_won: list[WeekWon]  # oldest week first, `WEEKS` of them, this week last
    rotting: list[RottingDeal]
    # Overdue, this month and the next, later, no date; None: not read (the dashboard reads it
    # only while it shows the forecast by close month).
    close_months: list[CloseMonth] | None = None

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


def pipeline_figures(
    session: Session,
    pipeline: PipelineInfo,
    *,
    now: datetime,
    tz: ZoneInfo,
    days: int = WINDOW_DAYS,
    by_close_month: bool = False,
) -> PipelineFigures:
    return PipelineFigures(
        pipeline=pipeline,
        stages=stage_figures(session, pipeline.id, now=now, tz=tz),
        outcomes=outcomes(session, pipeline.id, now=now, days=days),
        funnel=funnel(session, pipeline.id, now=now, days=days),
        weekly_won=weekly_won(session, pipeline.id, now=now, tz=tz),
        rotting=rotting_deals(session, pipeline.id, now=now, tz=tz),
        close_months=close_months(session, pipeline.id, now=now, tz=tz) if by_close_month else None,
    )


def pick_pipeline(
    pipelines: list[PipelineInfo], pipeline_id: uuid.UUID | None
) -> PipelineInfo | None:
    """`pipeline_id` if it still exists, else the first pipeline (None: there are none)."""
    return next((p for p in pipelines if p.id == pipeline_id), pipelines[0] if pipelines else None)


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
    by_close_month: bool = False,
    at_once: int = 3,
) -> Dashboard:
    """Everything the dashboard shows, for `pipeline_id` (or the first pipeline): the parts
    run concurrently, at most `at_once` at a time, each on a session of its own from
    `open_session` (read-only; `at_once` should not exceed what its pool can lend, or parts
    wait on the pool instead of the server). The forecast by close month only
    `by_close_month` (it reads every open deal's row)."""

    def run(part: Callable[[Session], T]) -> T:
        with open_session() as session:
            return part(session)

    with open_session() as session:
        pipelines = list_pipelines(session)
    chosen = pick_pipeline(pipelines, pipeline_id)
    with ThreadPoolExecutor(max_workers=max(1, at_once), thread_name_prefix="dashboard") as pool:
        figures = None
        if chosen is not None:
            pid = chosen.id
            # The two slowest first: they probe the stage history once per decided deal.
            won_lost = pool.submit(run, lambda s: outcomes(s, pid, now=now))
            steps = pool.submit(run, lambda s: funnel(s, pid, now=now))
            stages = pool.submit(run, lambda s: stage_figures(s, pid, now=now, tz=tz))
            rotting = pool.submit(run, lambda s: rotting_deals(s, pid, now=now, tz=tz))
            weekly = pool.submit(run, lambda s: weekly_won(s, pid, now=now, tz=tz))
            by_month = (
                pool.submit(run, lambda s: close_months(s, pid, now=now, tz=tz))
                if by_close_month
                else None
            )
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
                close_months=by_month.result() if by_month is not None else None,
            )
        return Dashboard(
            as_of=now,
            pipelines=pipelines,
            figures=figures,
            due=due.result(),
            activity=feed.result(),
        )
