"""What the deal form saves and where a new deal starts (`Where`, `DealDraft`), the toasts its
openers show after a save (`edit_note`, `opened_note`), and `FieldRefused`: a field's check
failed, naming the field the cursor goes to."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from ..base.errors import UserError
from ..deals import editing
from ..tasks.model import TaskDraft
from ..ui.display import money, visible
from ..usecases.deals import DealOpened, NewDeal


@dataclass(frozen=True)
class Where:
    """Where a new deal starts: a pipeline (None: the form asks) and a stage of it (None: the
    first open one)."""

    pipeline_id: uuid.UUID | None = None
    pipeline_name: str = ""
    stage_id: uuid.UUID | None = None
    stage_name: str = ""


@dataclass(frozen=True)
class DealDraft:
    """What the form saves: a new deal (`new_deal`) or the fields an edit changed
    (`changes`); after the save, what the save returned (`outcome`)."""

    customer_id: uuid.UUID | None  # None: a new lead (`new_lead`), or an edit
    customer_name: str
    new_lead: dict[str, str | None] | None
    pipeline_id: uuid.UUID | None
    stage_id: uuid.UUID | None
    title: str
    amount: Decimal
    expected_close_on: date | None
    owner_id: uuid.UUID | None
    first_task: TaskDraft | None = None
    changes: dict[str, object] = field(default_factory=dict)  # an edit: only what differs
    outcome: object = None

    def new_deal(self) -> NewDeal:
        assert self.pipeline_id is not None
        return NewDeal(
            pipeline_id=self.pipeline_id,
            stage_id=self.stage_id,
            title=self.title,
            amount=self.amount,
            expected_close_on=self.expected_close_on,
            owner_id=self.owner_id,
            first_task=self.first_task,
        )


def edit_note(number: int, outcome: object) -> str:
    """The toast after an edit: what changed (as the history shows it), and any warning."""
    if not isinstance(outcome, editing.Edited) or not outcome.changes:
        return f"#{number}: nothing changed"
    said = "; ".join(change.describe() for change in outcome.changes)
    warned = "".join(f" (note: {w})" for w in outcome.warnings)
    return visible(f"Saved #{number}: {said}{warned}")


def opened_note(draft: DealDraft, outcome: object) -> str:
    """The toast after a new deal: which, for whom, worth what, and its first task."""
    if not isinstance(outcome, DealOpened):
        return "Deal saved"
    card = outcome.card
    note = f"Opened #{card.number} {card.title} for {card.customer_name} ({money(card.amount)})"
    if draft.new_lead is not None:
        note += " · a new lead"
    if outcome.task_id is not None and draft.first_task is not None:
        note += f" · first task: {draft.first_task.title}"
    return visible(note)


class FieldRefused(Exception):
    """A field's check failed: why, and the id of the field the cursor goes to."""

    def __init__(self, field_id: str, error: UserError | str) -> None:
        super().__init__(str(error))
        self.field_id = field_id
        self.error = error
