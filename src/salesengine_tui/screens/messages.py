"""What workers send back to their screen: one small dataclass per finished load."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from textual.message import Message

from ..activity import ActivityItem
from ..customers import StatusSourceBreakdown
from ..leads import LeadRow
from ..pipeline import PipelineInfo, PipelineOverview, StageSummary


@dataclass
class PipelineLoaded(Message):
    pipelines: list[PipelineInfo]
    pipeline_id: uuid.UUID | None  # the one shown (None: there are no pipelines)
    stages: list[StageSummary]


@dataclass
class LeadsLoaded(Message):
    total: int
    leads: list[LeadRow]


@dataclass
class SegmentsLoaded(Message):
    breakdown: StatusSourceBreakdown


@dataclass
class DashboardLoaded(Message):
    pipelines: list[PipelineOverview]
    activity: list[ActivityItem]
