"""What workers send back to their screen: one small dataclass per finished load."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message
from textual.notifications import SeverityLevel
from textual.widget import Widget

if TYPE_CHECKING:  # annotations only: the app's first paint need not import them all
    from ..activity.notifications import Arrived
    from ..customers.leads import LeadQuery, Person
    from ..customers.status import StatusSourceBreakdown
    from ..deals.board import BoardChange, BoardQuery, Card, CardDetail, Column, Move
    from ..deals.figures import Dashboard
    from ..deals.pipelines import PipelineInfo
    from ..marketing.blasts import BlastSummary, Progress, Sent
    from ..marketing.saved_segments import Saved
    from ..marketing.segments import Member
    from ..usecases.blasts import BlastCheck


@dataclass
class Notice(Message):
    """A worker's word for the person at the desk, shown as a toast (never as markup); with
    `reload`, the screen then loads its data again."""

    text: str
    title: str = ""
    severity: SeverityLevel = "information"
    timeout: float = 5
    reload: bool = False

    def toast(self, on: Widget) -> None:
        """Show it as a toast from the screen that received it (that screen reloads if asked)."""
        self.stop()
        on.notify(
            self.text, title=self.title, severity=self.severity, timeout=self.timeout, markup=False
        )


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
class BoardPatched(Message):
    """The board now shows a change heard from elsewhere (posted after it is painted, for
    whoever measures or waits on live updates: the load benchmark, tests)."""

    change: BoardChange


@dataclass
class CardDetailLoaded(Message):
    detail: CardDetail


@dataclass
class OwnersLoaded(Message):
    """Who a deal can be given to: the board then opens the picker for `card`."""

    card: Card
    people: list[Person]


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
class SegmentCountFailed(Message):
    generation: int
    error: str  # one line: what went wrong, shown in place of the count


@dataclass
class SegmentSaved(Message):
    what: str  # save | rename | duplicate | delete
    saved: Saved | None  # None: deleted
    name: str


@dataclass
class SavedSegmentsListed(Message):
    """The saved segments: the handler opens the picker to open one."""

    found: list[Saved]


@dataclass
class BlastChecked(Message):
    check: BlastCheck


@dataclass
class BlastTemplatesListed(Message):
    """The past blasts to offer as templates: the handler opens the template picker."""

    past: list[BlastSummary]


@dataclass
class BlastTemplateLoaded(Message):
    """A past blast's subject and body, to start the new one from."""

    subject: str
    body: str


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
class RecentBlastsLoaded(Message):
    """The blasts for the dashboard's "Recent blasts" cell, with what came back."""

    blasts: list[BlastSummary]


@dataclass
class DashboardChanged(Message):
    """Someone changed what the dashboard shows (heard through LISTEN/NOTIFY)."""


@dataclass
class UnreadCounted(Message):
    """The acting user's unread notifications, counted (for the Alerts tab of every header)."""

    count: int


@dataclass
class AlertArrived(Message):
    """A notification for the acting user was just committed (heard through LISTEN/NOTIFY)."""

    arrived: Arrived
