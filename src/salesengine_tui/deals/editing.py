"""Opening a deal and editing its title, value, expected close date and owner.

Each is one transaction in the caller's session. An edit carries the version the person saw
(the same optimistic lock as a move, and the same message when someone else was first),
writes only the fields that changed, and keeps one `estimate_changes` row per changed field,
its old and new values as a person reads them: the deal's history and the customer's
timeline. Every write NOTIFYs the board channel, so open boards show it at once.
"""

from __future__ import annotations

import calendar
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Final, NoReturn

import sqlalchemy as sa
from sqlmodel import Session

from ..access import permissions
from ..access.users import Actor
from ..base import validation
from ..base.errors import NotFound, UserError
from ..db.models import (
    Customer,
    DealStage,
    Estimate,
    EstimateChange,
    EstimateStageHistory,
    EstimateStatus,
    User,
    UserRole,
)
from ..tasks.due import parse_day
from . import won_lost
from .board_changes import card_change, notify_change
from .cards import Card, get_card
from .moves import MoveConflict, value_text
from .moves import _conflict as conflict  # one message for every lost race on a deal

__all__ = [
    "EARLIEST_CLOSE",
    "FIELD_LABELS",
    "TITLE_MAX",
    "UNCHANGED",
    "Edited",
    "FieldChange",
    "MoveConflict",
    "check_close_date",
    "clean_title",
    "create_deal",
    "edit_deal",
    "first_open_stage",
    "parse_close_date",
    "shown_value",
]

TITLE_MAX = 200
EARLIEST_CLOSE = date(2000, 1, 1)
CLOSE_YEARS_AHEAD = 10

# The fields a person edits, as stored in `estimate_changes.field` (moves write "value" and
# "owner" too, when Won sets them), and as people read them.
FIELD_LABELS: Final[dict[str, str]] = {
    "title": "Title",
    "value": "Value",
    "expected_close": "Expected close",
    "owner": "Owner",
}


class _Unchanged:
    """Not given: the field keeps its value (None means "clear it" for the date and owner)."""

    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED: Final = _Unchanged()


# --- values as people type and read them ---------------------------------------------------


def clean_title(title: str | None) -> str:
    """A deal's title: one line, 1 to 200 characters, no control characters."""
    return validation.require_text(title, "title", max_len=TITLE_MAX)


def check_close_date(day: date | None, today: date, *, allow_past: bool) -> date | None:
    """An expected close date that is not absurd: from 2000 on, at most ten years ahead, and
    (for a new deal) not before today. None: no date."""
    if day is None:
        return None
    if day < EARLIEST_CLOSE:
        raise UserError(f"expected close {day.isoformat()} is before {EARLIEST_CLOSE.year}")
    latest = _add_years(today, CLOSE_YEARS_AHEAD)
    if day > latest:
        raise UserError(
            f"expected close {day.isoformat()} is more than {CLOSE_YEARS_AHEAD} years away"
        )
    if not allow_past and day < today:
        raise UserError(f"expected close {day.isoformat()} is in the past")
    return day


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def end_of_month(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def parse_close_date(text: str | None, today: date) -> date | None:
    """An expected close date as people type it: a day in the words a task's due takes
    (`2026-12-15`, `+30` days, `+2w`, `fri`, `tomorrow`: `tasks.due.parse_day`), or `eom`
    (the end of this month), `eonm` (the end of next month); blank is none. The range is
    `check_close_date`'s."""
    value = (text or "").strip().lower()
    if not value:
        return None
    if value == "eom":
        return end_of_month(today)
    if value == "eonm":
        return end_of_month(end_of_month(today) + timedelta(days=1))
    try:
        day = parse_day(value, today)
    except UserError as error:  # a day that cannot be: say which field
        raise UserError(f"expected close {error}") from None
    if day is None:
        _not_a_date(text)
    return day


def _not_a_date(text: str | None) -> NoReturn:
    raise UserError(
        f"expected close {validation.printable((text or '').strip())[:40]!r} is not a date: "
        "use YYYY-MM-DD, +N (days), a weekday, eom (end of month) or eonm (end of next month)"
    )


def shown_value(field: str, value: str | None) -> str:
    """A changed field's old or new value as the history shows it (None: nothing there)."""
    if value is None:
        return "unassigned" if field == "owner" else "none"
    return value


# --- opening a deal --------------------------------------------------------------------------


def first_open_stage(session: Session, pipeline_id: uuid.UUID) -> DealStage:
    """Where a new deal of the pipeline starts: its first stage that is neither Won nor Lost."""
    stage = session.execute(
        sa.select(DealStage)
        .where(DealStage.pipeline_id == pipeline_id, ~DealStage.is_won, ~DealStage.is_lost)
        .order_by(DealStage.position)
        .limit(1)
    ).scalar_one_or_none()
    if stage is None:
        raise NotFound("that pipeline has no open stage (add one in the pipeline settings)")
    return stage


def _owner_name(session: Session, owner_id: uuid.UUID | None) -> str | None:
    """The name of a deal's new owner: an active rep or manager (None: unassigned)."""
    if owner_id is None:
        return None
    owner = session.get(User, owner_id)
    if owner is None or not owner.active or owner.role not in (UserRole.rep, UserRole.manager):
        raise UserError("deals can be assigned to active reps and managers only")
    return owner.name


def create_deal(
    session: Session,
    actor: Actor,
    *,
    customer_id: uuid.UUID,
    pipeline_id: uuid.UUID,
    stage_id: uuid.UUID | None,
    title: str,
    amount: Decimal,
    expected_close_on: date | None,
    owner_id: uuid.UUID | None,
    now: datetime,
    today: date | None = None,
    origin: str = "",
) -> uuid.UUID:
    """Open a deal for a customer in an open stage of `pipeline_id` (`stage_id` None: its
    first open one); returns its id. A history row records it entering the stage, and open
    boards hear of it. `today` is the business date (the close date may not be before it)."""
    permissions.require(actor, permissions.Action.edit_deals)
    permissions.require_deal_owner(actor, None, owner_id, creating=True)
    title = clean_title(title)
    amount = validation.check_money(Decimal(amount))
    expected_close_on = check_close_date(expected_close_on, today or now.date(), allow_past=False)
    first = first_open_stage(session, pipeline_id)
    stage = first if stage_id is None else session.get(DealStage, stage_id)
    if stage is None or stage.pipeline_id != pipeline_id:
        raise NotFound("that stage no longer exists; refresh the board (r)")
    if stage.is_won or stage.is_lost:
        # Won sets off the win (a lead becomes active), Lost needs a reason: both are moves.
        raise UserError(f"a new deal starts in an open stage, not in {stage.name}; move it there")
    _owner_name(session, owner_id)
    if session.get(Customer, customer_id) is None:
        raise NotFound("that customer no longer exists")
    estimate = Estimate(
        customer_id=customer_id,
        title=title,
        amount=amount,
        # Still a draft in the pipeline's first stage; sent once past it (as a move sets it).
        status=EstimateStatus.draft if stage.id == first.id else won_lost.status_in(stage),
        stage_id=stage.id,
        stage_entered_at=now,
        owner_id=owner_id,
        created_by=actor.id,
        created_at=now,
        updated_at=now,
        updated_by=actor.id,
        expected_close_on=expected_close_on,
        amount_estimated=False,
    )
    session.add(estimate)
    session.flush()
    session.add(
        EstimateStageHistory(
            estimate_id=estimate.id,
            to_stage_id=stage.id,
            to_stage_name=stage.name,
            moved_by=actor.id,
            moved_at=now,
        )
    )
    session.flush()
    change = card_change(pipeline_id, estimate, before=None, by=actor.id, origin=origin)
    notify_change(session, change)
    return estimate.id


# --- editing a deal --------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    """One field a person changed, its values as shown (None: empty)."""

    field: str  # a key of FIELD_LABELS
    old: str | None  # None: empty (an owner: unassigned)
    new: str | None

    @property
    def label(self) -> str:
        return FIELD_LABELS.get(self.field, self.field)

    def describe(self) -> str:
        """`Value $0 → $4,200`."""
        old, new = shown_value(self.field, self.old), shown_value(self.field, self.new)
        return f"{self.label} {old} → {new}"


@dataclass(frozen=True)
class Edited:
    """What an edit did: the deal as it is now, what changed, and what deserves a second look."""

    card: Card
    changes: list[FieldChange] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _close_text(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def edit_deal(
    session: Session,
    actor: Actor,
    estimate_id: uuid.UUID,
    *,
    expected_version: int,
    now: datetime,
    title: str | _Unchanged = UNCHANGED,
    amount: Decimal | _Unchanged = UNCHANGED,
    expected_close_on: date | _Unchanged | None = UNCHANGED,
    owner_id: uuid.UUID | _Unchanged | None = UNCHANGED,
    today: date | None = None,
    origin: str = "",
) -> Edited:
    """Change the given fields of a deal if nobody changed it since `expected_version`
    (else MoveConflict naming who did; nothing is written).

    A rep edits their own and unassigned deals and may take an unassigned one; managers edit
    and assign every deal. A value typed by a person clears the "estimated" mark. A close date
    in the past is kept (a deal that slipped, or closed) and comes back as a warning."""
    permissions.require(actor, permissions.Action.edit_deals)
    current = session.execute(
        sa.select(
            Estimate.version,
            Estimate.title,
            Estimate.amount,
            Estimate.amount_estimated,
            Estimate.expected_close_on,
            Estimate.owner_id,
            Estimate.customer_id,
            DealStage.pipeline_id,
            Estimate.stage_id,
            Estimate.stage_entered_at,
            User.name.label("owner_name"),
        )
        .outerjoin(DealStage, DealStage.id == Estimate.stage_id)
        .outerjoin(User, User.id == Estimate.owner_id)
        .where(Estimate.id == estimate_id)
        .with_for_update(of=Estimate)
    ).one_or_none()
    if current is None:
        raise NotFound("that estimate no longer exists (deleted by someone else)")
    if current.version != expected_version:
        raise conflict(session, estimate_id)
    permissions.require_deal(session, actor, current.owner_id)

    values: dict[str, object] = {}
    changes: list[FieldChange] = []
    warnings: list[str] = []
    if not isinstance(title, _Unchanged):
        new_title = clean_title(title)
        if new_title != current.title:
            values["title"] = new_title
            changes.append(FieldChange("title", current.title, new_title))
    if not isinstance(amount, _Unchanged):
        new_amount = validation.check_money(Decimal(amount))
        if new_amount != current.amount or current.amount_estimated:
            values.update(amount=new_amount, amount_estimated=False)
            old = value_text(current.amount, estimated=current.amount_estimated)
            changes.append(FieldChange("value", old, value_text(new_amount)))
    if not isinstance(expected_close_on, _Unchanged):
        day = today or now.date()
        new_close = check_close_date(expected_close_on, day, allow_past=True)
        if new_close != current.expected_close_on:
            values["expected_close_on"] = new_close
            changes.append(
                FieldChange(
                    "expected_close",
                    _close_text(current.expected_close_on),
                    _close_text(new_close),
                )
            )
            if new_close is not None and new_close < day:
                warnings.append(f"expected close {new_close.isoformat()} is in the past")
    if not isinstance(owner_id, _Unchanged) and owner_id != current.owner_id:
        permissions.require_deal_owner(actor, current.owner_id, owner_id)
        name = _owner_name(session, owner_id)
        values["owner_id"] = owner_id
        changes.append(FieldChange("owner", current.owner_name, name))

    if not changes:
        return Edited(get_card(session, estimate_id), [], warnings)
    updated = session.execute(
        sa.update(Estimate)
        .where(Estimate.id == estimate_id, Estimate.version == expected_version)
        .values(**values, updated_at=now, updated_by=actor.id, version=Estimate.version + 1)
        .returning(Estimate.id)
    ).first()
    if updated is None:  # not reached under the row lock; kept as the lock's own guard
        raise conflict(session, estimate_id)
    session.add_all(
        EstimateChange(
            estimate_id=estimate_id,
            customer_id=current.customer_id,
            field=change.field,
            old_value=change.old,
            new_value=change.new,
            changed_by=actor.id,
            changed_at=now,
        )
        for change in changes
    )
    session.flush()
    card = get_card(session, estimate_id)
    if current.pipeline_id is not None:
        change = card_change(
            current.pipeline_id,
            card,
            before=current,
            by=actor.id,
            origin=origin,
            title_changed="title" in values,
        )
        notify_change(session, change)
    return Edited(card, changes, warnings)
