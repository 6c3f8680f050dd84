"""What the dashboard's panels show, as text: the stage table's rows, the won-and-lost lines,
the funnel's steps and the cells of its three lists (feed, rotting deals, my day).

Data is shown literally (`safe_text`, `Content`), never read as markup.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from rich.text import Text
from textual.content import Content

from ..activity.feed import REPLY_OUTCOME, ActivityItem, ActivityKind, reply_parts
from ..deals.figures import DueItem, DueKind, FunnelStep, Outcomes, PipelineFigures, RottingDeal
from ..ui.display import money, number, plural, safe_text, short_money
from .charts import BarRow, FunnelRow, hbar

STAGE_HEADINGS = ("Stage", "Deals", "Value", "Weighted", "Rotting")

# Fixed colours, each one of the 16 ANSI colours exactly (a 16-colour terminal shows these, not
# a neighbour) and readable on a dark background on the xterm and GNOME palettes. Late and
# rotting is a red badge: red text on black is not (2.2:1 on GNOME's Tango palette).
LATE = "bold #ffffff on #aa0000"
DUE_SOON = "bold #ffff55"
WON = "bold #55ff55"
LOST = "#ff5555"  # bright red: 5:1 or more on black in every palette
AUTOMATED = "#55ffff"

# Glyph and word by interaction type (as on the customer's timeline).
_INTERACTIONS = {
    "call": ("☎", "Call"),
    "email": ("✉", "Email"),
    "sms": ("✆", "Text"),
    "meeting": ("◎", "Meeting"),
}


def cut(value: object, style: str = "") -> Text:
    """Data shown literally, cut with an ellipsis where its column ends."""
    text = value if isinstance(value, Text) else safe_text(value, style)
    text.no_wrap, text.overflow = True, "ellipsis"
    return text


# --- the figures ------------------------------------------------------------------------------


def stage_rows(shown: PipelineFigures) -> list[BarRow]:
    top = max((s.value for s in shown.stages), default=0) or 1
    rows = [
        BarRow(
            s.name,
            (number(s.count), money(s.value), money(s.weighted), number(s.rotting)),
            float(s.value / top),
        )
        for s in shown.stages
    ]
    rows.append(
        BarRow(
            "Open",
            (
                number(shown.open_count),
                money(shown.open_value),
                money(shown.weighted),
                number(shown.rotting_count),
            ),
            None,
            emphasis="total",
        )
    )
    won = shown.outcomes
    rows.append(
        BarRow(f"Won · {won.days}d", (number(won.won), money(won.won_value), "", ""), None, "muted")
    )
    rows.append(BarRow(f"Lost · {won.days}d", (number(won.lost), "", "", ""), None, "muted"))
    return rows


def outcomes_text(won: Outcomes) -> Content:
    """Three lines: the win rate (with a bar), days to close, won value (counts are in the
    stage table beside)."""
    rate = won.win_rate
    days = won.avg_days_to_close
    return Content.assemble(
        ("Win rate   ", "bold"),
        ("—" if rate is None else f"{rate:>4.0%}", "bold"),
        "  ",
        (hbar(rate or 0, 20), "$text-success"),
        "\n",
        ("To close   ", "bold"),
        ("—" if days is None else f"{days:.1f} days", "bold"),
        " on average" if days is not None else "",
        "\n",
        ("Won        ", "bold"),
        *(
            [(money(won.won_value), "bold"), f" in {plural(won.won, 'deal')}"]
            if won.won
            else [("nothing yet", "dim")]
        ),
    )


def funnel_rows(steps: list[FunnelStep]) -> list[FunnelRow]:
    rows = []
    previous: int | None = None
    for step in steps:
        note = ""
        if previous:
            note = f"{step.reached / previous:.0%}"
        rows.append(FunnelRow(step.name, step.reached, number(step.reached), note))
        previous = step.reached
    return rows


# --- the lists --------------------------------------------------------------------------------


def feed_key(item: ActivityItem) -> str:
    return f"{item.kind.value}:{item.id}"


def activity_cells(item: ActivityItem, tz: ZoneInfo) -> list[object]:
    at = item.at.astimezone(tz)
    return [
        safe_text(f"{at:%m-%d %H:%M}", style="dim"),
        _what(item),
        cut(item.customer_name, "bold"),
        cut(_detail(item)),
        safe_text(item.user_initials, empty=""),
    ]


def rotting_cells(deal: RottingDeal) -> list[object]:
    return [
        cut(deal.customer_name, "bold"),
        cut(f"#{deal.number} {deal.title}"),
        cut(deal.stage_name),
        Text(f"+{deal.days_over}d", style=LATE, justify="right"),
        safe_text(short_money(deal.amount), justify="right"),
        safe_text(deal.owner_initials, empty=""),
    ]


# Glyph by task kind, in my day's "What" column.
_TASK_GLYPHS = {"call": "☎", "email": "✉", "meeting": "◎", "site_visit": "⌂", "todo": "•"}


def due_cells(item: DueItem, tz: ZoneInfo) -> list[object]:
    """My day's row: overdue tasks on a red badge (days late, or the time passed today), tasks
    due later today stand out (bold, in the warning colour), rotting deals last."""
    if item.kind is DueKind.task:
        at = item.at.astimezone(tz) if item.at else None
        clock = f"{at:%H:%M}" if at is not None and not item.all_day else None
        if item.overdue:
            late = f"{item.overdue_days}d late" if item.overdue_days > 0 else None
            when = Text(late or clock or "today", style=LATE)
        else:
            when = Text(clock or "today", style=DUE_SOON)
        glyph = _TASK_GLYPHS.get(item.task_kind or "", "•")
        what = Text.assemble(f"{glyph} ", safe_text(item.text, empty="(task)"))
        customer = cut(item.customer_name, "bold" if item.overdue else DUE_SOON)
        return [when, customer, cut(what)]
    when = Text(f"rot +{item.overdue_days}d", style=LATE)
    what = safe_text(f"#{item.estimate_number} {item.stage_name}")
    return [when, cut(item.customer_name, "bold"), cut(what)]


def _what(item: ActivityItem) -> Text:
    kind = item.kind
    if kind is ActivityKind.stage_move:
        won = item.to_stage is not None and item.to_stage.lower().startswith("won")
        return Text("➜ Won" if won else "➜ Stage move", style=WON if won else "")
    if kind is ActivityKind.upsell_flag:
        return Text("⚑ Upsell flag", style=DUE_SOON)
    if kind is ActivityKind.status_change:
        converted = item.from_stage == "lead" and item.to_stage == "active"
        return Text("★ Converted" if converted else "★ Status", style="bold")
    kind = item.interaction_type or ""
    glyph, label = _INTERACTIONS.get(kind, ("•", kind.capitalize()))
    if item.outcome == REPLY_OUTCOME:  # the customer wrote it, though the automation stored it
        return Text("✉ Reply", style="bold")
    if item.automated and kind == "email":
        return Text(f"{glyph} Auto email", style=AUTOMATED)
    arrow = "in" if item.direction == "inbound" else "out"
    return Text(f"{glyph} {label} {arrow}")


def _detail(item: ActivityItem) -> str:
    kind = item.kind
    if kind is ActivityKind.stage_move:
        moved = f"{item.from_stage} → {item.to_stage}" if item.from_stage else f"→ {item.to_stage}"
        return f"#{item.estimate_number} {moved} · {item.estimate_title}"
    if kind is ActivityKind.upsell_flag:
        return f"#{item.ticket_number} end of life: {item.ticket_text or ''}"
    if kind is ActivityKind.status_change:
        return f"{item.from_stage} → {item.to_stage}" + (
            f": {item.ticket_text}" if item.ticket_text else ""
        )
    if item.outcome == REPLY_OUTCOME:  # Re: Checking in on your quote — Yes, let's go ahead
        subject, said = reply_parts(item.notes)
        return " — ".join(part for part in (subject, *said.strip().splitlines()[:1]) if part)
    # The first line of the notes is enough for a feed; the timeline shows the rest.
    first_line = (item.notes or "").strip().splitlines()[0:1]
    outcome = item.outcome.replace("_", " ") if item.outcome else None
    return " — ".join(part for part in (outcome, *first_line) if part)
