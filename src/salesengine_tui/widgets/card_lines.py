"""A board card as lines of text: what one estimate looks like on the board.

Data goes through `safe_text` (never markup, control characters made visible). Freshness reads
without colour too: a glyph and, when rotting, the word.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from rich.style import Style
from rich.text import Text

from ..deals.cards import Card, initials
from ..deals.rotting import Freshness, days_in_stage, freshness
from ..ui.display import calendar_days, money, safe_text

CARD_HEIGHT = 5  # four lines of card and one of space

GLYPHS = {Freshness.fresh: "○", Freshness.near: "◑", Freshness.rotting: "●"}


@dataclass(frozen=True)
class CardStyles:
    card: Style
    muted: Style
    fresh: Style
    near: Style
    rotting: Style
    warn: Style

    def of(self, state: Freshness) -> Style:
        return {Freshness.fresh: self.fresh, Freshness.near: self.near}.get(state, self.rotting)


def _split(left: Text, right: Text, width: int) -> Text:
    """`left` then `right` flush right; `left` is cut first when both do not fit."""
    room = max(0, width - right.cell_len - 1)
    if left.cell_len > room:
        left.truncate(room, overflow="ellipsis")
    gap = max(1, width - left.cell_len - right.cell_len)
    return Text.assemble(left, " " * gap, right, end="")


def card_lines(
    card: Card,
    width: int,
    *,
    now: datetime,
    tz: ZoneInfo,
    rotting_days: int | None,
    styles: CardStyles,
) -> list[Text]:
    """The card's four text lines, each at most `width` cells (padding is the caller's)."""
    days = days_in_stage(card.stage_entered_at, now, tz)
    state = freshness(days, rotting_days)
    name = safe_text(card.customer_name, style="bold")
    title = safe_text(card.title, style=styles.muted)
    value = Text.assemble(
        (money(card.amount), "bold"),
        ("  " + initials(card.owner_name), styles.muted) if card.owner_name else "",
        end="",
    )
    step = Text("" if card.has_next_step else "no next step", style=styles.warn, end="")
    in_stage = Text(
        f"{GLYPHS[state]} {days}d " + ("ROTTING" if state is Freshness.rotting else "in stage"),
        style=styles.of(state),
        end="",
    )
    if card.last_interaction_at is None:
        touched = "☎ never"
    else:
        touched = f"☎ {max(0, calendar_days(card.last_interaction_at, now, tz))}d"
    lines = [
        name,
        title,
        _split(value, step, width),
        _split(in_stage, Text(touched, style=styles.muted, end=""), width),
    ]
    for line in lines:
        line.truncate(width, overflow="ellipsis", pad=True)
    return lines
