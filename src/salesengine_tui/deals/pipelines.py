"""Pipelines in their display order, and which comes next (the board, the dashboard and the
pipeline settings all switch with `p`). Stage figures live in `cards` (the board) and
`figures` (the dashboard)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session

from ..db.models import DealPipeline


@dataclass(frozen=True)
class PipelineInfo:
    id: uuid.UUID
    name: str
    position: int


def list_pipelines(session: Session) -> list[PipelineInfo]:
    """All pipelines in their display order."""
    rows = session.execute(
        sa.select(DealPipeline.id, DealPipeline.name, DealPipeline.position).order_by(
            DealPipeline.position, DealPipeline.name
        )
    )
    return [PipelineInfo(id=r.id, name=r.name, position=r.position) for r in rows]


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
