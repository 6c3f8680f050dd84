"""The pipeline board, in one import: what it reads and what it writes.

- `cards`: the read model (columns, cards paged by keyset, a card's position);
- `card_detail`: a card with its customer's facts and stage history;
- `moves`: move, undo, reassign;
- `won_lost`: what happens when a deal enters Won (its value, who is credited), Lost (a
  reason) or an open stage;
- `rotting`: days in stage and the rotting rule;
- `board_changes`: the NOTIFY that tells every open board to repaint.
"""

from __future__ import annotations

from .board_changes import BOARD_CHANNEL, BoardChange, notify_change
from .card_detail import CardDetail, HistoryEntry, detail
from .cards import (
    OWNER_LABELS,
    OWNERS,
    PAGE_SIZE,
    SORT_LABELS,
    SORTS,
    ZERO,
    BoardQuery,
    Card,
    Column,
    Owners,
    Sort,
    columns,
    get_card,
    month_start,
    next_sort,
    page,
    position,
    with_card_moved,
)
from .moves import Move, MoveConflict, move, reassign, undo, value_text
from .rotting import Freshness, freshness
from .won_lost import LostReasonRequired, ValueRequired

__all__ = [
    "BOARD_CHANNEL",
    "OWNERS",
    "OWNER_LABELS",
    "PAGE_SIZE",
    "SORTS",
    "SORT_LABELS",
    "ZERO",
    "BoardChange",
    "BoardQuery",
    "Card",
    "CardDetail",
    "Column",
    "Freshness",
    "HistoryEntry",
    "LostReasonRequired",
    "Move",
    "MoveConflict",
    "Owners",
    "Sort",
    "ValueRequired",
    "columns",
    "detail",
    "freshness",
    "get_card",
    "month_start",
    "move",
    "next_sort",
    "notify_change",
    "page",
    "position",
    "reassign",
    "undo",
    "value_text",
    "with_card_moved",
]
