"""Pipelines and their stages: what the board and the dashboard read.

Plain functions over a Session returning frozen dataclasses. Totals are SQL aggregates (one
statement, GROUP BY stage) so they cost the same at 100 estimates as at 100,000.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session

from .db.models import DealPipeline, DealStage, Estimate

ZERO = Decimal(0)


@dataclass(frozen=True)
class PipelineInfo:
    id: uuid.UUID
    name: str
    position: int


@dataclass(frozen=True)
class StageSummary:
    """One stage (a board column) with the estimates in it, counted and summed."""

    id: uuid.UUID
    pipeline_id: uuid.UUID
    name: str
    position: int
    probability: int
    is_won: bool
    is_lost: bool
    count: int
    total_value: Decimal
    # total_value x probability / 100: what the stage is "worth" today
    weighted_value: Decimal

    @property
    def is_open(self) -> bool:
        return not (self.is_won or self.is_lost)


@dataclass(frozen=True)
class PipelineTotals:
    """A pipeline at a glance. Weighted value counts open deals only (won is already won)."""

    open_count: int
    open_value: Decimal
    weighted_value: Decimal
    won_count: int
    won_value: Decimal
    lost_count: int


@dataclass(frozen=True)
class PipelineOverview:
    pipeline: PipelineInfo
    totals: PipelineTotals


def list_pipelines(session: Session) -> list[PipelineInfo]:
    """All pipelines in their display order."""
    rows = session.execute(
        sa.select(DealPipeline.id, DealPipeline.name, DealPipeline.position).order_by(
            DealPipeline.position, DealPipeline.name
        )
    )
    return [PipelineInfo(id=r.id, name=r.name, position=r.position) for r in rows]


def _summaries(session: Session, pipeline_id: uuid.UUID | None) -> list[StageSummary]:
    total = sa.func.coalesce(sa.func.sum(Estimate.amount), ZERO)
    stmt = (
        sa.select(
            DealStage.id,
            DealStage.pipeline_id,
            DealStage.name,
            DealStage.position,
            DealStage.probability,
            DealStage.is_won,
            DealStage.is_lost,
            sa.func.count(Estimate.id).label("count"),
            total.label("total_value"),
            sa.func.round(total * DealStage.probability / 100, 2).label("weighted_value"),
        )
        .select_from(DealStage)
        # LEFT JOIN: an empty stage is still a column, with zero deals.
        .outerjoin(Estimate, Estimate.stage_id == DealStage.id)
        .group_by(DealStage.id)
        .order_by(DealStage.pipeline_id, DealStage.position)
    )
    if pipeline_id is not None:
        stmt = stmt.where(DealStage.pipeline_id == pipeline_id)
    return [StageSummary(**row._mapping) for row in session.execute(stmt)]


def stage_summaries(session: Session, pipeline_id: uuid.UUID) -> list[StageSummary]:
    """Every stage of one pipeline in board order, with count, value and weighted value."""
    return _summaries(session, pipeline_id)


def totals_of(stages: Iterable[StageSummary]) -> PipelineTotals:
    """Roll a pipeline's stages up into open / won / lost totals (over stages, not estimates)."""
    stages = list(stages)
    open_stages = [s for s in stages if s.is_open]
    won = [s for s in stages if s.is_won]
    return PipelineTotals(
        open_count=sum(s.count for s in open_stages),
        open_value=sum((s.total_value for s in open_stages), ZERO),
        weighted_value=sum((s.weighted_value for s in open_stages), ZERO),
        won_count=sum(s.count for s in won),
        won_value=sum((s.total_value for s in won), ZERO),
        lost_count=sum(s.count for s in stages if s.is_lost),
    )


def pipeline_overview(session: Session) -> list[PipelineOverview]:
    """Totals for every pipeline, from one aggregate query over all stages."""
    by_pipeline: dict[uuid.UUID, list[StageSummary]] = {}
    for summary in _summaries(session, None):
        by_pipeline.setdefault(summary.pipeline_id, []).append(summary)
    return [
        PipelineOverview(pipeline=p, totals=totals_of(by_pipeline.get(p.id, ())))
        for p in list_pipelines(session)
    ]


def next_pipeline(
    pipelines: Sequence[PipelineInfo], current: uuid.UUID | None
) -> PipelineInfo | None:
    """The pipeline after `current`, wrapping around (the first one if `current` is unknown)."""
    if not pipelines:
        return None
    ids = [p.id for p in pipelines]
    if current not in ids:
        return pipelines[0]
    return pipelines[(ids.index(current) + 1) % len(pipelines)]
