"""A board card as lines of text: what one estimate looks like on the board.

Data goes through `safe_text` (never markup, control characters made visible). Freshness reads
without colour too: a glyph and, when rotting, the word.

An open card: customer, title, value (`~$4,200 est.` while it is the system's guess) and owner,
its next step (none, late, today, or when), days in stage and days since the last contact. A
decided card (Won or Lost) says when and why instead: `✓ Won 12 Nov`, `✗ Lost 3 Nov: went with
a competitor`; it neither rots nor needs a next step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from rich.style import Style
from rich.text import Text

from ..deals.cards import Card
from ..deals.rotting import Freshness, days_in_stage, freshness
from ..ui.display import calendar_days, money, safe_text

CARD_HEIGHT = 5  # four lines of card and one of space

GLYPHS = {Freshness.fresh: "○", Freshness.near: "◑", Freshness.rotting: "●"}

Decided = Literal["won", "lost"]


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


def short_date(moment: datetime, now: datetime, tz: ZoneInfo) -> str:
    """`12 Nov` in the business time zone; `12 Nov 2025` when not this year."""
    day, today = moment.astimezone(tz).date(), now.astimezone(tz).date()
    return f"{day.day} {day:%b}" + (f" {day.year}" if day.year != today.year else "")


def shown_value(card: Card) -> str:
    """The card's value; a guess of the system's is marked as one."""
    return f"~{money(card.amount)} est." if card.amount_estimated else money(card.amount)


def next_step_text(card: Card, now: datetime, tz: ZoneInfo, styles: CardStyles) -> Text:
    """The next step's state: none, late, today, or the day it is due."""
    due = card.next_task_due
    if due is None:
        return Text("no next step", style=styles.warn, end="")
    days = calendar_days(due, now, tz)  # positive: that many days ago
    if days > 0:
        return Text(f"step {days}d late", style=styles.warn, end="")
    if days >= 0:
        return Text("step today", style=styles.near, end="")
    return Text(f"next {short_date(due, now, tz)}", style=styles.muted, end="")


def outcome_text(
    card: Card, decided: Decided, now: datetime, tz: ZoneInfo, styles: CardStyles
) -> Text:
    """When the deal was decided and, when lost, why."""
    when = short_date(card.stage_entered_at, now, tz)
    if decided == "won":
        return Text(f"✓ Won {when}", style=styles.fresh, end="")
    line = Text(f"✗ Lost {when}", style=styles.muted, end="")
    if card.lost_reason:
        line.append(": ", style=styles.muted)
        line.append_text(safe_text(card.lost_reason, style=styles.muted))
    return line


def card_lines(
    card: Card,
    width: int,
    *,
    now: datetime,
    tz: ZoneInfo,
    rotting_days: int | None,
    styles: CardStyles,
    decided: Decided | None = None,
) -> list[Text]:
    """The card's four text lines, each at most `width` cells (padding is the caller's).
    `decided`: the card is in a Won or Lost stage."""
    name = safe_text(card.customer_name, style="bold")
    title = safe_text(card.title, style=styles.muted)
    value = Text.assemble(
        (shown_value(card), "bold"),
        ("  " + card.owner_initials, styles.muted) if card.owner_initials else "",
        end="",
    )
    if card.last_interaction_at is None:
        touched = Text("☎ never", style=styles.muted, end="")
    else:
        days_since = max(0, calendar_days(card.last_interaction_at, now, tz))
        touched = Text(f"☎ {days_since}d", style=styles.muted, end="")
    if decided is not None:
        lines = [
            name,
            title,
            _split(value, touched, width),
            outcome_text(card, decided, now, tz, styles),
        ]
    else:
        days = days_in_stage(card.stage_entered_at, now, tz)
        state = freshness(days, rotting_days)
        in_stage = Text(
            f"{GLYPHS[state]} {days}d " + ("ROTTING" if state is Freshness.rotting else "in stage"),
            style=styles.of(state),
            end="",
        )
        lines = [
            name,
            title,
            _split(value, next_step_text(card, now, tz, styles), width),
            _split(in_stage, touched, width),
        ]
    for line in lines:
        line.truncate(width, overflow="ellipsis", pad=True)
    return lines
