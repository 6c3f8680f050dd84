"""What workers send back to their screen: one small dataclass per finished load."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from textual.message import Message

from ..blasts import BlastSummary, DryRun, Progress, Rendered, Sent
from ..board import BoardChange, BoardQuery, Card, CardDetail, Column, Move
from ..customers import StatusSourceBreakdown
from ..dashboard_figures import Dashboard
from ..leads import LeadQuery, Person
from ..pipeline import PipelineInfo
from ..saved_segments import Saved
from ..segments import Member


@dataclass(frozen=True)
class Focus:
    """Where the board's cursor should be after a load: a stage, and a card in it."""

    stage_id: uuid.UUID
    card: Card | None
    index: int


@dataclass
class BoardLoaded(Message):
    pipelines: list[PipelineInfo]
    query: BoardQuery | None  # None: there are no pipelines
    columns: list[Column]
    focus: Focus | None


@dataclass
class CardMoved(Message):
    move: Move | None  # None: refused (someone else changed the estimate first)
    note: str
    card: Card  # the estimate as it is now
    undo: bool = False
    position: int | None = None  # the card's place in its new column, where shown


@dataclass
class BoardChanged(Message):
    """Another terminal changed a card (heard through LISTEN/NOTIFY)."""

    change: BoardChange


@dataclass
class CardDetailLoaded(Message):
    detail: CardDetail


@dataclass
class LeadsLoaded(Message):
    total: int
    view: LeadQuery  # what was counted (a newer view makes this stale)
    cursor: int | None  # where to put the cursor (None: where it is)


@dataclass
class LeadChoicesLoaded(Message):
    """What the leads pickers offer: sources, people to assign, pipelines."""

    sources: list[str]
    people: list[Person]
    pipelines: list[PipelineInfo]


@dataclass
class LeadsChanged(Message):
    """A write on the leads (call, convert, assign) is done: say so and reload."""

    note: str
    cursor: int | None
    clear_marks: bool = False


@dataclass
class SegmentsLoaded(Message):
    breakdown: StatusSourceBreakdown
    blasts: list[BlastSummary]


@dataclass
class SegmentCounted(Message):
    generation: int  # which edit this count belongs to (older ones are dropped)
    total: int
    members: list[Member]
    elapsed: float


@dataclass
class SegmentSaved(Message):
    what: str  # save | rename | duplicate | delete
    saved: Saved | None  # None: deleted
    name: str


@dataclass
class BlastChecked(Message):
    dry: DryRun
    rendered: list[Rendered]
    problem: str | None  # what is wrong with the template, if anything
    unready: str | None = None  # why sending would be refused (compliance not set up)


@dataclass
class BlastQueued(Message):
    sent: Sent


@dataclass
class BlastProgress(Message):
    progress: Progress


@dataclass
class DashboardLoaded(Message):
    dashboard: Dashboard


@dataclass
class DashboardChanged(Message):
    """Someone changed what the dashboard shows (heard through LISTEN/NOTIFY)."""
