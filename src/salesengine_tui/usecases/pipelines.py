"""Pipelines and their stages: list them, and (managers) edit them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from ..deals import pipeline_admin
from ..deals.pipelines import PipelineInfo, list_pipelines
from .base import UseCases


@dataclass(frozen=True)
class PipelineStages:
    """The pipelines, and the stages of the one shown."""

    pipelines: list[PipelineInfo]
    pipeline_id: uuid.UUID | None  # None: there are no pipelines
    stages: list[pipeline_admin.StageSettings]


class Pipelines(UseCases):
    # --- reads ------------------------------------------------------------------------------

    def all(self) -> list[PipelineInfo]:
        """Every pipeline, in display order."""
        with self.read() as session:
            return list_pipelines(session)

    def stages(self, pipeline_id: uuid.UUID | None) -> PipelineStages:
        """The stages of `pipeline_id` (the first pipeline when it is None or gone)."""
        with self.read() as session:
            pipelines = list_pipelines(session)
            if pipeline_id is None or pipeline_id not in {p.id for p in pipelines}:
                pipeline_id = pipelines[0].id if pipelines else None
            found = pipeline_admin.stages(session, pipeline_id) if pipeline_id else []
        return PipelineStages(pipelines, pipeline_id, found)

    # --- edits (managers; the domain refuses anyone else) -------------------------------------

    def add_pipeline(self, name: str) -> uuid.UUID:
        with self.write() as session:
            return pipeline_admin.add_pipeline(session, self.actor, name)

    def rename_pipeline(self, pipeline_id: uuid.UUID, name: str) -> None:
        with self.write() as session:
            pipeline_admin.rename_pipeline(session, self.actor, pipeline_id, name)

    def add_stage(
        self, pipeline_id: uuid.UUID, name: str, *, after: uuid.UUID | None = None
    ) -> uuid.UUID:
        with self.write() as session:
            return pipeline_admin.add_stage(session, self.actor, pipeline_id, name, after=after)

    def update_stage(
        self,
        stage_id: uuid.UUID,
        *,
        name: str,
        probability: str,
        rotting_days: str,
        follow_up_after_days: str,
    ) -> None:
        """Every setting of one stage, as typed (the domain parses and checks them)."""
        with self.write() as session:
            pipeline_admin.update_stage(
                session,
                self.actor,
                stage_id,
                name=name,
                probability=probability,
                rotting_days=rotting_days,
                follow_up_after_days=follow_up_after_days,
            )

    def move_stage(self, stage_id: uuid.UUID, delta: int) -> None:
        with self.write() as session:
            pipeline_admin.move_stage(session, self.actor, stage_id, delta)

    def delete_stage(self, stage_id: uuid.UUID) -> str:
        with self.write() as session:
            return pipeline_admin.delete_stage(session, self.actor, stage_id)
