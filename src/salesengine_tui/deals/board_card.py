"""A change heard from another terminal, applied to an open board without reading its lanes
again: the one changed card (one statement by primary key), whether the board's filter showed
it before the change and shows it now, and where it lands among the cards a lane has loaded.

The lane totals come from the change itself (`BoardChange`: the value before and after), so a
move costs an open board this one small read. Plain functions; no Textual.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session

from ..db.models import Estimate
from .board_changes import BoardChange
from .cards import BoardQuery, Card, Sort, cards_select, filters, sort_key

Key = tuple[object, object]


@dataclass(frozen=True)
class CardPatch:
    """One heard card change, as a board with `query` sees it."""

    change: BoardChange
    card: Card | None  # as it is now; None: gone since
    shown_before: bool | None  # None: cannot tell (its title changed under a text filter)
    shown_after: bool

    @property
    def current(self) -> bool:
        """The card read is the one the change left (not changed again since: that change
        has its own NOTIFY on the way, and the board loads again rather than guess)."""
        return self.card is not None and self.card.version == self.change.version


def _all(conditions: list[sa.ColumnElement[bool]]) -> sa.ColumnElement[bool]:
    return sa.and_(*conditions) if conditions else sa.true()


def changed_card(session: Session, change: BoardChange, query: BoardQuery) -> CardPatch:
    """The card `change` names, with whether `query` showed it before the change and shows it
    now: one statement (the board's filter evaluated twice, on the card's values now and on
    the values before the change that the payload carries)."""
    before = filters(
        query,
        owner=sa.literal(change.owner_before, sa.Uuid),
        close=sa.literal(change.close_before, sa.Date),
    )
    stmt = cards_select().add_columns(
        _all(filters(query)).label("shown_after"), _all(before).label("shown_before")
    )
    row = session.execute(stmt.where(Estimate.id == change.estimate_id)).one_or_none()
    if row is None:
        return CardPatch(change, None, False, False)
    fields = dict(row._mapping)
    shown_after, shown_before = bool(fields.pop("shown_after")), bool(fields.pop("shown_before"))
    if change.from_stage_id is None:
        was: bool | None = False  # new here
    elif change.title_changed and query.text.strip():
        was = None  # the old title is not in the payload (user text)
    else:
        was = shown_before
    return CardPatch(change, Card(**fields), was, shown_after)


# --- where a card sits among the loaded ones -----------------------------------------------
# Days and value order by a time or a number, then the id: Python orders them as PostgreSQL
# does. Names order by the database's collation, which Python does not know: no key, and the
# board loads again instead of guessing.


def card_key(card: Card, sort: Sort) -> Key | None:
    return None if sort == "name" else sort_key(card, sort)


def key_before(change: BoardChange, sort: Sort) -> Key | None:
    """The card's sort key before `change` (None: not known here)."""
    if sort == "value" and change.amount_before is not None:
        return (change.amount_before, change.estimate_id)
    if sort == "days" and change.entered_before is not None:
        return (change.entered_before, change.estimate_id)
    return None


def comes_before(a: Key, b: Key, sort: Sort) -> bool:
    """Whether key `a` is shown above key `b` (value: largest first; the rest ascending)."""
    return a > b if sort == "value" else a < b  # type: ignore[operator]


def without(
    items: Mapping[int, Card], card_id: uuid.UUID, key: Key | None, sort: Sort
) -> dict[int, Card] | None:
    """The loaded `items` (index -> card) of a lane once the card `card_id` has left it: the
    ones below it move up one. None when where it was is not known (not loaded, no key)."""
    gone = next((i for i, card in items.items() if card.id == card_id), None)
    if gone is not None:
        return {i - (i > gone): card for i, card in items.items() if i != gone}
    if key is None:
        return None
    return {i - comes_before(key, sort_key(card, sort), sort): card for i, card in items.items()}


def with_card(
    items: Mapping[int, Card], count: int, card: Card, key: Key, sort: Sort
) -> tuple[dict[int, Card], int | None]:
    """The loaded `items` of a lane of `count` cards once `card` (sort key `key`) has come in,
    and its index when its neighbours are loaded (None: it falls between cards not loaded,
    so only the ones below it move down)."""
    below = {i for i, c in items.items() if comes_before(key, sort_key(c, sort), sort)}
    last_above = max((i for i in items if i not in below), default=-1)
    first_below = min(below, default=count)
    moved = {i + (i >= first_below): c for i, c in items.items()}
    if first_below != last_above + 1:
        return moved, None
    moved[first_below] = card
    return moved, first_below
