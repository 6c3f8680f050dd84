"""A customer's timeline as a virtual list: three lines an entry, newest first, any number of
entries. What happened comes first on its line (a move's stages before the deal's title), so
what a narrow line cuts with "…" is the detail. Wide, the first line holds when and what, and
who then the notes take two lines; narrow, when and who take the first line, what the second
and the notes the third."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.style import Style
from rich.text import Text
from textual.strip import Strip

from ..activity.feed import REPLY_OUTCOME, ActivityItem, ActivityKind, reply_parts
from ..customers.status import OptOutVia
from ..deals.editing import FieldChange
from ..ui.display import visible
from .blast_outcome_text import MARKS
from .dashboard_cells import DUE_SOON, LOST
from .virtual_list import BlockRequest, VirtualList

# Glyph and label by kind of entry: distinguishable at a glance, in colour or not.
_INTERACTION = {"call": "☎ Call", "email": "✉ Email", "sms": "✆ Text", "meeting": "◎ Meeting"}
_KIND = {
    ActivityKind.stage_move: "➜",
    ActivityKind.ticket_opened: "⚒ Ticket opened",
    ActivityKind.ticket_closed: "✔ Ticket closed",
    ActivityKind.status_change: "★ Status",
    ActivityKind.deal_change: "✎",
    ActivityKind.email_opt_out: "⊘ Opted out of email",
    ActivityKind.email_opt_in: "✉ Opted back in to email",
}
_OPT_OUTS = {ActivityKind.email_opt_out, ActivityKind.email_opt_in}
# An email's fate: the marks of the blasts' counts (`email_events.kind` names them the same);
# "dropped" never arrived either. Bounces in the error red, complaints in the warning yellow.
_FATE_MARKS = {kind: mark for kind, mark, *_ in MARKS} | {"dropped": "✗"}
_FATE_STYLES = {"bounced": LOST, "dropped": LOST, "complained": DUE_SOON}
WHEN_WIDTH = 22  # `Tue 2026-11-24 09:30  `: the day (first entry of a day only) and the time
WIDE_WHAT = 40  # below this many columns for what happened beside the time, lines stack


def headline(item: ActivityItem) -> str:
    """What happened, the important part first: `➜ Proposal Sent → Won · #249 Dual-fuel…`."""
    if is_reply(item):  # ✉ Reply: Re: Checking in on your quote…
        return f"✉ Reply: {reply_parts(item.notes)[0]}"
    if item.kind is ActivityKind.interaction:
        label = _INTERACTION.get(item.interaction_type or "", item.interaction_type or "?")
        arrow = " in" if item.direction == "inbound" else " out"
        outcome = item.outcome.replace("_", " ") if item.outcome else ""
        # An email we sent: what became of it first (✉ Email out · ✗ bounced: <reason> · campaign).
        return label + arrow + "".join(f" · {part}" for part in (fate(item), outcome) if part)
    deal = f"#{item.estimate_number} {item.estimate_title or ''}".rstrip()
    if item.kind is ActivityKind.stage_move:
        return f"{_KIND[item.kind]} {item.from_stage or '(opened)'} → {item.to_stage} · {deal}"
    if item.kind is ActivityKind.status_change:
        return f"{_KIND[item.kind]} {item.from_stage} → {item.to_stage}"
    if item.kind is ActivityKind.deal_change:  # ✎ Value $0 → $4,200 · #249 AC unit
        change = FieldChange(item.field or "?", item.from_stage, item.to_stage).describe()
        return f"{_KIND[item.kind]} {change} · {deal}"
    if item.kind in _OPT_OUTS:  # ⊘ Opted out of email by Dana Reyes
        return f"{_KIND[item.kind]} {_opted_by(item)}"
    return f"{_KIND[item.kind]} · #{item.ticket_number}"


def fate(item: ActivityItem) -> str:
    """What became of an email we sent, behind the mark its count has on the blast's line
    (`✗ bounced: mailbox does not exist`); "" when nothing came back."""
    if not item.email_fate:
        return ""
    mark = _FATE_MARKS.get(item.email_fate.kind)
    words = item.email_fate.describe()
    return f"{mark} {words}" if mark else words


def _fate_span(item: ActivityItem, what: Text) -> tuple[str, int, int] | None:
    """The fate's style and where it is in `what` (the headline as shown), when it has one:
    a bounce or a complaint must not look like a delivery."""
    style = _FATE_STYLES.get(item.email_fate.kind) if item.email_fate else None
    if style is None:
        return None
    shown = visible(fate(item))
    start = what.plain.find(f" · {shown}")
    return None if start < 0 else (style, start + 3, start + 3 + len(shown))


def _opted_by(item: ActivityItem) -> str:
    if item.outcome == OptOutVia.link:
        return "by the customer (unsubscribe link)"
    if item.outcome == OptOutVia.provider:
        return "by the customer (the email provider's unsubscribe)"
    if item.outcome == OptOutVia.complaint:
        return "by the customer (marked an email as spam)"
    if item.outcome == OptOutVia.reply:
        return 'by the customer (replied "unsubscribe")'
    if item.outcome is None:  # from before revision 0018
        return "(how was not recorded)"
    return f"by {item.user_name or 'staff'}"


def is_reply(item: ActivityItem) -> bool:
    """An email the customer sent us (`email.replies`): its subject heads the entry."""
    return item.kind is ActivityKind.interaction and item.outcome == REPLY_OUTCOME


def author(item: ActivityItem) -> str | None:
    """Who to name beside the entry (an opt-out names them in its headline already; a
    reply is the customer's, though the automation stored it)."""
    return None if item.kind in _OPT_OUTS or is_reply(item) else item.user_name


def body(item: ActivityItem) -> str:
    if is_reply(item):  # the subject is in the headline
        return reply_parts(item.notes)[1]
    if item.kind is ActivityKind.interaction:
        return item.notes or ""
    if item.kind is ActivityKind.stage_move:  # the reason of a move into Lost
        return f"Reason: {item.notes}" if item.notes else ""
    if item.kind is ActivityKind.deal_change or item.kind in _OPT_OUTS:
        return ""
    return item.ticket_text or ""


class TimelineList(VirtualList[ActivityItem]):
    ITEM_HEIGHT = 3
    COMPONENT_CLASSES = {
        "timeline-list--cursor",
        "timeline-list--muted",
        "timeline-list--interaction",
        "timeline-list--stage",
        "timeline-list--ticket",
    }
    DEFAULT_CSS = """
    TimelineList {
        height: 1fr;
        overflow-x: hidden;
        scrollbar-size-vertical: 1;
        & > .timeline-list--cursor { background: $accent 30%; }
        & > .timeline-list--muted { color: $text-muted; }
        & > .timeline-list--interaction { color: $text-primary; text-style: bold; }
        & > .timeline-list--stage { color: $text-success; text-style: bold; }
        & > .timeline-list--ticket { color: $text-warning; text-style: bold; }
    }
    """

    def __init__(
        self,
        count: int,
        fetch: Callable[[BlockRequest[ActivityItem]], list[ActivityItem]],
        *,
        tz: ZoneInfo,
        id: str | None = None,
    ) -> None:
        super().__init__(count, fetch, id=id)
        self._tz = tz

    def _starts_day(self, index: int, item: ActivityItem) -> bool:
        """The first entry of its day (newest first), or one whose newer neighbour is not
        loaded: its date is shown; the rest of the day shows only times (grouped by day)."""
        newer = self.item(index - 1) if index else None
        return newer is None or _day(newer.at, self._tz) != _day(item.at, self._tz)

    def item_key(self, index: int, item: ActivityItem) -> Hashable:
        return (item.key, self._starts_day(index, item))

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"timeline-list--{name}", partial=True)

    def item_strips(self, index: int, item: ActivityItem, width: int) -> list[Strip]:
        style = {
            ActivityKind.interaction: "interaction",
            ActivityKind.stage_move: "stage",
            ActivityKind.status_change: "stage",
            ActivityKind.deal_change: "stage",
            ActivityKind.email_opt_out: "stage",
            ActivityKind.email_opt_in: "stage",
        }.get(item.kind, "ticket")
        local = item.at.astimezone(self._tz)
        day = local.strftime("%a %Y-%m-%d") if self._starts_day(index, item) else ""
        when = Text.assemble(
            (f"{day:<14} ", "bold"), (local.strftime("%H:%M"), self._style("muted")), "  "
        )
        what = Text(visible(headline(item)), style=self._style(style), end="")
        if span := _fate_span(item, what):
            what.stylize(*span)
        who = visible(author(item) or "")
        notes = visible(body(item).replace("\n", " ⏎ ")) if body(item) else ""
        inner = max(1, width - 2)
        console = self.app.console
        if inner - WHEN_WIDTH >= WIDE_WHAT:  # when and what; who, then the notes, on two lines
            said = Text.assemble((who, self._style("muted")), " · " if who and notes else "", notes)
            lines = [Text.assemble(when, what), *_wrap(said, inner, 2, console)]
        else:  # when and who (a time alone: the day of the entry above); what; the notes
            when = Text.assemble(
                (f"{day} " if day else "", "bold"), (local.strftime("%H:%M"), self._style("muted"))
            )
            by = Text(f" · {who}" if who else "", style=self._style("muted"))
            lines = [Text.assemble(when, by), what, *_wrap(Text(notes), inner, 1, console)]
        strips = []
        for line in lines:
            line.end = ""
            line.truncate(inner, overflow="ellipsis", pad=True)
            strips.append(Strip([*Text(" ").render(console), *line.render(console)]))
        strips = [s.adjust_cell_length(width) for s in strips]
        if self.cursor_state(index):
            cursor = self.get_component_rich_style("timeline-list--cursor")
            strips = [s.apply_style(cursor) for s in strips]
        return strips


def _day(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


def _wrap(text: Text, width: int, lines: int, console: Console) -> list[Text]:
    """`text` wrapped to at most `lines` lines of `width` (the last one cut with an ellipsis)."""
    if not text:
        return [Text("", end="") for _ in range(lines)]
    # Only the start can show: wrapping 10,000 characters to keep two lines is wasted work.
    start = text[: width * lines + 1]
    start.end = ""
    wrapped = start.wrap(console, width, overflow="fold")
    out = list(wrapped)[:lines]
    if len(wrapped) > lines:
        last = out[-1]
        last.truncate(max(1, width - 1))
        last.append("…")
    while len(out) < lines:
        out.append(Text("", end=""))
    return out
