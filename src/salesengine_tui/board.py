"""The pipeline board (plan 2A): columns, cards paged by keyset, and moving a card.

Plain functions over a Session; no Textual. Column totals are one aggregate statement; cards
come a page at a time in the column's sort order, continuing from a neighbour's key (keyset)
where one is known and by offset only for a jump, so a column of 100,000 estimates costs what
a column of 100 does. A move is one transaction: optimistic lock, history row, stage-entry
automations, and a NOTIFY so every open board repaints.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Literal

import sqlalchemy as sa
from sqlmodel import Session

from . import permissions
from .customers import record_status_change
from .db.models import (
    Customer,
    CustomerStatus,
    DealStage,
    Estimate,
    EstimateStageHistory,
    EstimateStatus,
    User,
    UserRole,
)
from .db.text_search import contains
from .errors import NotFound, UserError
from .users import Actor

# LISTEN/NOTIFY channel for board changes; the payload is `BoardChange` as JSON.
BOARD_CHANNEL = "salesengine_board"
PAGE_SIZE = 100
ZERO = Decimal(0)

Sort = Literal["days", "value", "name"]
SORTS: tuple[Sort, ...] = ("days", "value", "name")
SORT_LABELS: dict[Sort, str] = {
    "days": "days in stage, oldest first",
    "value": "value, largest first",
    "name": "customer name",
}


class Freshness(StrEnum):
    """Days in stage against the stage's rotting threshold."""

    fresh = "fresh"
    near = "near"  # three quarters of the way to rotting
    rotting = "rotting"


def freshness(days: int, rotting_days: int | None) -> Freshness:
    if rotting_days is None:
        return Freshness.fresh
    if days >= rotting_days:
        return Freshness.rotting
    if days * 4 >= rotting_days * 3:
        return Freshness.near
    return Freshness.fresh


def next_sort(sort: Sort) -> Sort:
    return SORTS[(SORTS.index(sort) + 1) % len(SORTS)]


def initials(name: str | None) -> str:
    """`Morgan Avery` -> `MA`; empty for no owner."""
    if not name:
        return ""
    words = [w for w in name.split() if w[:1].isalnum()]
    return "".join(w[0] for w in words[:2]).upper() or name[:1].upper()


@dataclass(frozen=True)
class BoardQuery:
    """What the board shows: one pipeline, in one order, optionally filtered."""

    pipeline_id: uuid.UUID
    sort: Sort = "days"
    text: str = ""  # matches customer name or estimate title, anywhere, any case
    owner_id: uuid.UUID | None = None  # "only my deals"


@dataclass(frozen=True)
class Column:
    """A stage of the board with the (filtered) cards in it counted and summed."""

    id: uuid.UUID
    name: str
    position: int
    probability: int
    is_won: bool
    is_lost: bool
    rotting_days: int | None
    follow_up_after_days: int | None
    count: int
    total_value: Decimal
    weighted_value: Decimal

    @property
    def is_open(self) -> bool:
        return not (self.is_won or self.is_lost)


@dataclass(frozen=True)
class Card:
    id: uuid.UUID
    version: int
    number: int
    stage_id: uuid.UUID
    stage_entered_at: datetime
    title: str
    amount: Decimal
    customer_id: uuid.UUID
    customer_name: str
    customer_status: CustomerStatus
    owner_id: uuid.UUID | None
    owner_name: str | None
    last_interaction_at: datetime | None
    next_step: str | None
    next_step_at: datetime | None
    lost_reason: str | None

    @property
    def has_next_step(self) -> bool:
        return bool(self.next_step) or self.next_step_at is not None


def _text_filter(text: str) -> sa.ColumnElement[bool] | None:
    text = text.strip()
    if not text:
        return None
    return sa.or_(contains(Customer.name, text), contains(Estimate.title, text))


def _filters(query: BoardQuery) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    text = _text_filter(query.text)
    if text is not None:
        conditions.append(text)
    if query.owner_id is not None:
        conditions.append(Estimate.owner_id == query.owner_id)
    return conditions


def columns(session: Session, query: BoardQuery) -> list[Column]:
    """The pipeline's stages in board order, with count, value and weighted value of the
    cards the query shows (one statement; empty stages included)."""
    conditions = _filters(query)
    estimates = sa.select(Estimate.stage_id, Estimate.amount)
    if query.text.strip():
        estimates = estimates.join(Customer, Customer.id == Estimate.customer_id)
    shown = (
        estimates.join(DealStage, DealStage.id == Estimate.stage_id)
        .where(DealStage.pipeline_id == query.pipeline_id, *conditions)
        .subquery()
    )
    total = sa.func.coalesce(sa.func.sum(shown.c.amount), ZERO)
    stmt = (
        sa.select(
            DealStage.id,
            DealStage.name,
            DealStage.position,
            DealStage.probability,
            DealStage.is_won,
            DealStage.is_lost,
            DealStage.rotting_days,
            DealStage.follow_up_after_days,
            sa.func.count(shown.c.stage_id).label("count"),
            total.label("total_value"),
            sa.func.round(total * DealStage.probability / 100, 2).label("weighted_value"),
        )
        .select_from(DealStage)
        .outerjoin(shown, shown.c.stage_id == DealStage.id)
        .where(DealStage.pipeline_id == query.pipeline_id)
        .group_by(DealStage.id)
        .order_by(DealStage.position)
    )
    return [Column(**row._mapping) for row in session.execute(stmt)]


def with_card_moved(column: Column, *, count: int, amount: Decimal) -> Column:
    """`column`'s figures after `count` cards (negative: leaving) worth `amount` each moved
    in; the same arithmetic as `columns`, so a board can update without re-aggregating."""
    total = column.total_value + amount * count
    weighted = (total * column.probability / 100).quantize(Decimal("0.01"))
    return replace(column, count=column.count + count, total_value=total, weighted_value=weighted)


def _needs_customer(query: BoardQuery) -> bool:
    """Whether the order or the filter reads the customer (else the estimates index will do)."""
    return query.sort == "name" or bool(query.text.strip())


def _order(sort: Sort) -> tuple[list[sa.ColumnElement[object]], bool]:
    """Sort columns and whether they run descending (all keys share one direction so a
    row comparison continues the order)."""
    if sort == "value":
        return [Estimate.amount, Estimate.id], True
    if sort == "name":
        return [Customer.name, Estimate.id], False
    return [Estimate.stage_entered_at, Estimate.id], False


def _key(card: Card, sort: Sort) -> tuple[object, object]:
    if sort == "value":
        return (card.amount, card.id)
    if sort == "name":
        return (card.customer_name, card.id)
    return (card.stage_entered_at, card.id)


_OWNER = sa.orm.aliased(User, name="owner")
_CARD_COLUMNS = (
    Estimate.id,
    Estimate.version,
    Estimate.number,
    Estimate.stage_id,
    Estimate.stage_entered_at,
    Estimate.title,
    Estimate.amount,
    Estimate.customer_id,
    Customer.name.label("customer_name"),
    Customer.status.label("customer_status"),
    Estimate.owner_id,
    _OWNER.name.label("owner_name"),
    Customer.last_interaction_at,
    Customer.next_step,
    Customer.next_step_at,
    Estimate.lost_reason,
)


def _cards_select() -> sa.Select[tuple[object, ...]]:
    return (
        sa.select(*_CARD_COLUMNS)
        .join(Customer, Customer.id == Estimate.customer_id)
        .outerjoin(_OWNER, _OWNER.id == Estimate.owner_id)
    )


def page(
    session: Session,
    stage_id: uuid.UUID,
    query: BoardQuery,
    *,
    after: Card | None = None,
    before: Card | None = None,
    offset: int = 0,
    from_end: bool = False,
    limit: int = PAGE_SIZE,
) -> list[Card]:
    """Up to `limit` cards of one column in the query's order.

    `after` / `before` continue from a known card (keyset: an index range scan at any depth);
    `from_end` reads the last cards (the `G` key); `offset` is for jumps to a place no loaded
    card is near. The result is always in display order.
    """
    keys, descending = _order(query.sort)
    backwards = before is not None or from_end
    ascending = descending == backwards  # read direction against the display order
    stmt = _cards_select().where(Estimate.stage_id == stage_id, *_filters(query))
    anchor = after or before
    if anchor is not None:
        row, value = sa.tuple_(*keys), sa.tuple_(*_key(anchor, query.sort))
        stmt = stmt.where(row > value if ascending else row < value)
    stmt = stmt.order_by(*(k.asc() if ascending else k.desc() for k in keys)).limit(limit)
    if offset and anchor is None:
        if _needs_customer(query):
            stmt = stmt.offset(offset)
        else:
            # Skip over the estimates index alone (no join per skipped row), then read the
            # page from the key found there: ~50 ms -> a few at 12,000 deep.
            key = session.execute(
                sa.select(*keys)
                .where(Estimate.stage_id == stage_id, *_filters(query))
                .order_by(*(k.asc() if ascending else k.desc() for k in keys))
                .offset(offset)
                .limit(1)
            ).first()
            if key is None:
                return []
            row, value = sa.tuple_(*keys), sa.tuple_(*key)
            stmt = stmt.where(row >= value if ascending else row <= value)
    cards = [Card(**row._mapping) for row in session.execute(stmt)]
    return cards[::-1] if backwards else cards


def position(session: Session, card: Card, query: BoardQuery) -> int | None:
    """Where `card` sits in its column now (0-based), or None if the query no longer shows
    it there (moved away, or filtered out). An index range count: no rows are fetched."""
    found = session.execute(
        _cards_select().where(Estimate.id == card.id, *_filters(query))
    ).one_or_none()
    if found is None:
        return None
    current = Card(**found._mapping)
    keys, descending = _order(query.sort)
    row, value = sa.tuple_(*keys), sa.tuple_(*_key(current, query.sort))
    stmt = (
        sa.select(sa.func.count())
        .select_from(Estimate)
        .where(
            Estimate.stage_id == current.stage_id,
            *_filters(query),
            row > value if descending else row < value,
        )
    )
    if _needs_customer(query):
        stmt = stmt.join(Customer, Customer.id == Estimate.customer_id)
    return int(session.execute(stmt).scalar_one())


def get_card(session: Session, estimate_id: uuid.UUID) -> Card:
    row = session.execute(_cards_select().where(Estimate.id == estimate_id)).one_or_none()
    if row is None:
        raise NotFound("that estimate no longer exists (deleted by someone else)")
    return Card(**row._mapping)


# --- moving cards --------------------------------------------------------------------------


class LostReasonRequired(UserError):
    pass


class MoveConflict(UserError):
    """The estimate changed since the board read it; nothing was written."""

    def __init__(self, message: str, card: Card) -> None:
        super().__init__(message)
        self.card = card


@dataclass(frozen=True)
class Move:
    """A move that happened: enough to show it, tell other boards, and undo it."""

    card: Card  # the estimate after the move
    pipeline_id: uuid.UUID
    from_stage_id: uuid.UUID | None
    from_stage_name: str | None
    to_stage_name: str
    # What the estimate had before, so undo puts it back exactly.
    previous_entered_at: datetime | None
    previous_lost_reason: str | None
    customer_activated: bool = False


@dataclass(frozen=True)
class BoardChange:
    """What a NOTIFY on the board channel says."""

    pipeline_id: uuid.UUID
    estimate_id: uuid.UUID
    by: uuid.UUID | None
    origin: str = ""  # the sender's board id, so a board can skip its own echoes

    def to_json(self) -> str:
        return json.dumps(
            {
                "pipeline_id": str(self.pipeline_id),
                "estimate_id": str(self.estimate_id),
                "by": str(self.by) if self.by else None,
                "origin": self.origin,
            }
        )

    @classmethod
    def from_json(cls, payload: str) -> BoardChange | None:
        try:
            data = json.loads(payload)
            return cls(
                pipeline_id=uuid.UUID(data["pipeline_id"]),
                estimate_id=uuid.UUID(data["estimate_id"]),
                by=uuid.UUID(data["by"]) if data.get("by") else None,
                origin=str(data.get("origin") or ""),
            )
        except (ValueError, KeyError, TypeError):
            return None  # not ours, or from a newer version: ignore rather than crash


def notify_change(session: Session, change: BoardChange) -> None:
    """Queue a NOTIFY; PostgreSQL delivers it when (and only if) the transaction commits."""
    session.execute(sa.select(sa.func.pg_notify(BOARD_CHANNEL, change.to_json())))


def _conflict(session: Session, estimate_id: uuid.UUID) -> MoveConflict:
    card = get_card(session, estimate_id)
    who_row = session.execute(
        sa.select(User.name, DealStage.name)
        .select_from(Estimate)
        .outerjoin(User, User.id == Estimate.updated_by)
        .outerjoin(DealStage, DealStage.id == Estimate.stage_id)
        .where(Estimate.id == estimate_id)
    ).one()
    who, stage = who_row
    return MoveConflict(
        f"{who or 'someone else'} changed this estimate first; it is now in {stage}. "
        "Nothing was overwritten.",
        card,
    )


def move(
    session: Session,
    actor: Actor,
    estimate_id: uuid.UUID,
    *,
    expected_version: int,
    to_stage_id: uuid.UUID,
    now: datetime,
    lost_reason: str | None = None,
    entered_at: datetime | None = None,
    origin: str = "",
) -> Move:
    """Move an estimate to a stage of its pipeline, in the caller's transaction.

    `expected_version` is the version the caller saw: if the estimate changed since, nothing
    is written and MoveConflict names who changed it. `entered_at` overrides the stage-entry
    time (undo restores the old one). Stage-entry automations run here: Won accepts the
    estimate and activates a lead customer; Lost needs a reason; a stage with a follow-up
    rule starts its nurture clock from the entry time (the jobs runner reads
    `stage_entered_at`).
    """
    target = session.get(DealStage, to_stage_id)
    if target is None:
        raise NotFound("that stage no longer exists; refresh the board (r)")
    reason = (lost_reason or "").strip() or None
    if target.is_lost and reason is None:
        raise LostReasonRequired(f"moving to {target.name} needs a lost reason")
    if reason is not None and len(reason) > 500:
        raise UserError("the lost reason is too long (500 characters at most)")

    current = session.execute(
        sa.select(
            Estimate.stage_id,
            Estimate.stage_entered_at,
            Estimate.lost_reason,
            Estimate.customer_id,
            DealStage.pipeline_id,
            DealStage.name,
            Estimate.owner_id,
        )
        .outerjoin(DealStage, DealStage.id == Estimate.stage_id)
        .where(Estimate.id == estimate_id)
    ).one_or_none()
    if current is None:
        raise NotFound("that estimate no longer exists (deleted by someone else)")
    permissions.require_deal(session, actor, current.owner_id)
    if current.pipeline_id is not None and current.pipeline_id != target.pipeline_id:
        raise UserError("an estimate moves between stages of its own pipeline only")

    status = (
        EstimateStatus.accepted
        if target.is_won
        else EstimateStatus.declined
        if target.is_lost
        else EstimateStatus.sent
    )
    updated = session.execute(
        sa.update(Estimate)
        .where(Estimate.id == estimate_id, Estimate.version == expected_version)
        .values(
            stage_id=target.id,
            stage_entered_at=entered_at or now,
            status=status,
            lost_reason=reason if target.is_lost else None,
            updated_at=now,
            updated_by=actor.id,
            version=Estimate.version + 1,
        )
        .returning(Estimate.id)
    ).first()
    if updated is None:
        raise _conflict(session, estimate_id)

    session.add(
        EstimateStageHistory(
            estimate_id=estimate_id,
            from_stage_id=current.stage_id,
            to_stage_id=target.id,
            from_stage_name=current.name,
            to_stage_name=target.name,
            moved_by=actor.id,
            moved_at=now,
            lost_reason=reason if target.is_lost else None,
        )
    )
    activated = False
    if target.is_won:
        activated = (
            session.execute(
                sa.update(Customer)
                .where(Customer.id == current.customer_id, Customer.status == CustomerStatus.lead)
                .values(status=CustomerStatus.active, updated_at=now, version=Customer.version + 1)
                .returning(Customer.id)
            ).first()
            is not None
        )
        if activated:
            record_status_change(
                session,
                [current.customer_id],
                from_status=CustomerStatus.lead,
                to_status=CustomerStatus.active,
                by=actor.id,
                at=now,
                reason=f"won: {target.name}",
            )
    session.flush()
    notify_change(
        session,
        BoardChange(
            pipeline_id=target.pipeline_id, estimate_id=estimate_id, by=actor.id, origin=origin
        ),
    )
    return Move(
        card=get_card(session, estimate_id),
        pipeline_id=target.pipeline_id,
        from_stage_id=current.stage_id,
        from_stage_name=current.name,
        to_stage_name=target.name,
        previous_entered_at=current.stage_entered_at,
        previous_lost_reason=current.lost_reason,
        customer_activated=activated,
    )


def undo(session: Session, actor: Actor, last: Move, *, now: datetime, origin: str = "") -> Move:
    """Put the estimate back where `last` took it from, with its old entry time and reason.

    Another move of its own (it goes in the history), guarded by the version `last` left."""
    if last.from_stage_id is None:
        raise UserError("that estimate was not on the board before; nothing to undo")
    return move(
        session,
        actor,
        last.card.id,
        expected_version=last.card.version,
        to_stage_id=last.from_stage_id,
        now=now,
        lost_reason=last.previous_lost_reason,
        entered_at=last.previous_entered_at,
        origin=origin,
    )


# --- the detail view (until the customer profile lands) ------------------------------------


@dataclass(frozen=True)
class HistoryEntry:
    moved_at: datetime
    from_stage: str | None
    to_stage: str
    by: str | None
    lost_reason: str | None


@dataclass(frozen=True)
class CardDetail:
    card: Card
    stage_name: str
    email: str | None
    phone: str | None
    address: str | None
    lead_source: str | None
    created_at: datetime
    history: Sequence[HistoryEntry] = field(default_factory=list)


def detail(session: Session, estimate_id: uuid.UUID, *, history_limit: int = 20) -> CardDetail:
    card = get_card(session, estimate_id)
    row = session.execute(
        sa.select(
            DealStage.name,
            Customer.email,
            Customer.phone,
            sa.func.concat_ws(", ", Customer.address, Customer.city, Customer.state).label("addr"),
            Customer.lead_source,
            Estimate.created_at,
        )
        .select_from(Estimate)
        .join(Customer, Customer.id == Estimate.customer_id)
        .join(DealStage, DealStage.id == Estimate.stage_id)
        .where(Estimate.id == estimate_id)
    ).one()
    history = [
        HistoryEntry(*r)
        for r in session.execute(
            sa.select(
                EstimateStageHistory.moved_at,
                EstimateStageHistory.from_stage_name,
                EstimateStageHistory.to_stage_name,
                User.name,
                EstimateStageHistory.lost_reason,
            )
            .outerjoin(User, User.id == EstimateStageHistory.moved_by)
            .where(EstimateStageHistory.estimate_id == estimate_id)
            .order_by(EstimateStageHistory.moved_at.desc(), EstimateStageHistory.id)
            .limit(history_limit)
        )
    ]
    return CardDetail(
        card=card,
        stage_name=row.name,
        email=row.email,
        phone=row.phone,
        address=row.addr or None,
        lead_source=row.lead_source,
        created_at=row.created_at,
        history=history,
    )


def reassign(
    session: Session,
    actor: Actor,
    estimate_id: uuid.UUID,
    owner_id: uuid.UUID | None,
    *,
    expected_version: int,
    now: datetime,
    origin: str = "",
) -> str:
    """Give a deal a new owner (None: unassigned); managers only, guarded by the version the
    manager saw. Returns the new owner's name (or "nobody")."""
    permissions.require(actor, permissions.Action.reassign)
    name = "nobody"
    if owner_id is not None:
        owner = session.get(User, owner_id)
        if owner is None or not owner.active or owner.role not in (UserRole.rep, UserRole.manager):
            raise UserError("deals can be assigned to active reps and managers only")
        name = owner.name
    row = session.execute(
        sa.update(Estimate)
        .where(Estimate.id == estimate_id, Estimate.version == expected_version)
        .values(
            owner_id=owner_id, updated_by=actor.id, updated_at=now, version=Estimate.version + 1
        )
        .returning(DealStage.pipeline_id)
        .where(DealStage.id == Estimate.stage_id)
    ).first()
    if row is None:
        raise _conflict(session, estimate_id)
    notify_change(session, BoardChange(row[0], estimate_id, actor.id, origin))
    return name
