"""The board's read model: columns, cards paged by keyset, and where a card sits.

Plain functions over a Session; no Textual. Column totals are one aggregate statement; cards
come a page at a time in the column's sort order, continuing from a neighbour's key (keyset)
where one is known and by offset only for a jump, so a column of 100,000 estimates costs what
a column of 100 does.

A card's next step is its customer's soonest open task (a task for the deal is one of its
customer's): title and due time, each an index probe of `ix_tasks_open_customer` per card shown.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

import sqlalchemy as sa
from sqlmodel import Session

from ..base.errors import NotFound
from ..db.models import Customer, CustomerStatus, DealStage, Estimate, User
from ..db.text_search import contains
from ..tasks.queries import next_task_due_sql, next_task_title_sql

PAGE_SIZE = 100
ZERO = Decimal(0)

Sort = Literal["days", "value", "name"]
SORTS: tuple[Sort, ...] = ("days", "value", "name")
SORT_LABELS: dict[Sort, str] = {
    "days": "days in stage, oldest first",
    "value": "value, largest first",
    "name": "customer name",
}


def next_sort(sort: Sort) -> Sort:
    return SORTS[(SORTS.index(sort) + 1) % len(SORTS)]


Owners = Literal["everyone", "mine", "unassigned"]
OWNERS: tuple[Owners, ...] = ("everyone", "mine", "unassigned")
OWNER_LABELS: dict[Owners, str] = {
    "everyone": "everyone's deals",
    "mine": "only my deals",
    "unassigned": "unassigned deals",
}


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    """The first day of the month after `day`'s."""
    first = month_start(day)
    return (
        first.replace(year=first.year + 1, month=1)
        if first.month == 12
        else first.replace(month=first.month + 1)
    )


@dataclass(frozen=True)
class BoardQuery:
    """What the board shows: one pipeline, in one order, optionally filtered."""

    pipeline_id: uuid.UUID
    sort: Sort = "days"
    text: str = ""  # matches customer name or estimate title, anywhere, any case
    owner_id: uuid.UUID | None = None  # "only my deals"
    unassigned: bool = False  # only deals nobody owns (new upsell opportunities, say)
    # "Closing this month": the first day of the month (in the business time zone) whose
    # expected close dates are shown; None shows every deal.
    closing_in: date | None = None

    @property
    def owners(self) -> Owners:
        if self.unassigned:
            return "unassigned"
        return "mine" if self.owner_id is not None else "everyone"

    @property
    def filtered(self) -> bool:
        """Whether anything narrows the cards (the sort does not)."""
        return bool(self.text.strip()) or self.owners != "everyone" or self.closing_in is not None


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
    owner_initials: str | None  # unique on the desk (`users.initials`): what a card shows
    last_interaction_at: datetime | None
    lost_reason: str | None
    amount_estimated: bool  # the value is the system's guess until a person sets it
    expected_close_on: date | None
    # The customer's soonest open task (one for this deal is one of the customer's).
    next_task: str | None
    next_task_due: datetime | None

    @property
    def has_next_step(self) -> bool:
        return self.next_task_due is not None


def _text_filter(text: str) -> sa.ColumnElement[bool] | None:
    text = text.strip()
    if not text:
        return None
    return sa.or_(contains(Customer.name, text), contains(Estimate.title, text))


def filters(
    query: BoardQuery,
    *,
    owner: sa.ColumnElement[uuid.UUID | None] | None = None,
    close: sa.ColumnElement[date | None] | None = None,
) -> list[sa.ColumnElement[bool]]:
    """The query's conditions on a card; `owner` and `close` stand in for the estimate's
    columns (a live patch asks whether a card's values before a change were shown)."""
    owner = Estimate.owner_id if owner is None else owner
    close = Estimate.expected_close_on if close is None else close
    conditions: list[sa.ColumnElement[bool]] = []
    text = _text_filter(query.text)
    if text is not None:
        conditions.append(text)
    if query.unassigned:
        conditions.append(owner.is_(None))
    elif query.owner_id is not None:
        conditions.append(owner == query.owner_id)
    if query.closing_in is not None:
        start = month_start(query.closing_in)
        conditions.append(close >= start)
        conditions.append(close < next_month(start))
    return conditions


def columns(session: Session, query: BoardQuery) -> list[Column]:
    """The pipeline's stages in board order, with count, value and weighted value of the
    cards the query shows (one statement; empty stages included)."""
    conditions = filters(query)
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
    # PostgreSQL's round() takes halves away from zero; Decimal's default would go to even.
    weighted = (total * column.probability / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
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


def sort_key(card: Card, sort: Sort) -> tuple[object, object]:
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
    _OWNER.initials.label("owner_initials"),
    Customer.last_interaction_at,
    Estimate.lost_reason,
    Estimate.amount_estimated,
    Estimate.expected_close_on,
    next_task_title_sql(Estimate.customer_id).label("next_task"),
    next_task_due_sql(Estimate.customer_id).label("next_task_due"),
)


def cards_select() -> sa.Select[tuple[object, ...]]:
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
    stmt = cards_select().where(Estimate.stage_id == stage_id, *filters(query))
    anchor = after or before
    if anchor is not None:
        row, value = sa.tuple_(*keys), sa.tuple_(*sort_key(anchor, query.sort))
        stmt = stmt.where(row > value if ascending else row < value)
    stmt = stmt.order_by(*(k.asc() if ascending else k.desc() for k in keys)).limit(limit)
    if offset and anchor is None:
        # Skip over the sort keys alone (the estimates index, joined to customers only when
        # the order or the filter reads them; no owner, no next step per skipped row), then
        # read the page from the key found there: ~50 ms -> a few at 12,000 deep.
        skip = sa.select(*keys).where(Estimate.stage_id == stage_id, *filters(query))
        if _needs_customer(query):
            skip = skip.join(Customer, Customer.id == Estimate.customer_id)
        key = session.execute(
            skip.order_by(*(k.asc() if ascending else k.desc() for k in keys))
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
        cards_select().where(Estimate.id == card.id, *filters(query))
    ).one_or_none()
    if found is None:
        return None
    current = Card(**found._mapping)
    keys, descending = _order(query.sort)
    row, value = sa.tuple_(*keys), sa.tuple_(*sort_key(current, query.sort))
    stmt = (
        sa.select(sa.func.count())
        .select_from(Estimate)
        .where(
            Estimate.stage_id == current.stage_id,
            *filters(query),
            row > value if descending else row < value,
        )
    )
    if _needs_customer(query):
        stmt = stmt.join(Customer, Customer.id == Estimate.customer_id)
    return int(session.execute(stmt).scalar_one())


def get_card(session: Session, estimate_id: uuid.UUID) -> Card:
    row = session.execute(cards_select().where(Estimate.id == estimate_id)).one_or_none()
    if row is None:
        raise NotFound("that estimate no longer exists (deleted by someone else)")
    return Card(**row._mapping)
