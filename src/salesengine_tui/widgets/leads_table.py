"""The leads inbox as a virtual table: one line per customer (a lead, or with the status
filter any customer), only visible lines drawn."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

from rich.style import Style
from rich.text import Text
from textual.message import Message
from textual.strip import Strip

from ..customers.leads import LeadRow
from ..customers.phones import phone_display
from ..ui.display import days_ago, local_date, safe_text
from .virtual_list import BlockRequest, VirtualList, cold_request


class TableColumn(NamedTuple):
    label: str
    width: int  # cells at ease; the name takes what is left
    narrow: int  # cells when the terminal is narrow (the label fits)


COLUMNS = (
    TableColumn("Name", 0, 0),
    TableColumn("Source", 14, 8),
    TableColumn("Age", 10, 6),
    TableColumn("Last touch", 12, 10),
    TableColumn("Next task", 11, 10),
    TableColumn("Owner", 14, 8),
    TableColumn("Phone", 15, 14),
    TableColumn("Status", 8, 7),  # only when every customer is listed, not only leads
)
NAME, STATUS = 0, len(COLUMNS) - 1
MIN_NAME = 12  # the name never gets less (cut with "…"); it gets 16 before others widen
EASY_NAME = 16
# Given back first when there is room: the columns people read most (then the name).
WIDEN_ORDER = ("Phone", "Next task", "Last touch", "Owner", "Source", "Age", "Status")
# Dropped only when even the narrow widths do not fit (the status column at 80 columns).
DROP_ORDER = ("Age", "Owner", "Source")
MARK = 2  # "● " for marked rows


def column_widths(width: int, *, status: bool = False) -> dict[int, int]:
    """Column index -> cells, for the columns shown at `width`: every column at its width
    if the name keeps EASY_NAME cells; else each narrowed as little as the name needs (never
    below its narrow width); a column dropped only when even that does not fit. The status
    column only when asked for."""
    shown = [i for i in range(len(COLUMNS)) if status or i != STATUS]
    drops = [i for label in DROP_ORDER for i in shown if COLUMNS[i].label == label]
    while True:
        others = [i for i in shown if i != NAME]
        room = width - MARK - len(others)  # a space before each column but the name
        if room - sum(COLUMNS[i].width for i in others) >= EASY_NAME:
            widths = {i: COLUMNS[i].width for i in others}
            return {NAME: room - sum(widths.values()), **widths}
        if room - sum(COLUMNS[i].narrow for i in others) >= MIN_NAME or not drops:
            break
        shown.remove(drops.pop(0))
    widths = {i: COLUMNS[i].narrow for i in others}
    spare = room - sum(widths.values()) - MIN_NAME
    name = MIN_NAME + max(0, min(spare, EASY_NAME - MIN_NAME))
    spare -= name - MIN_NAME
    for label in WIDEN_ORDER:
        i = next((i for i in others if COLUMNS[i].label == label), None)
        if i is not None and spare > 0:
            grow = min(spare, COLUMNS[i].width - widths[i])
            widths[i] += grow
            spare -= grow
    return {NAME: name + max(0, spare), **dict(sorted(widths.items()))}


# Below this many cells the columns take their narrow widths (with the status column too).
WIDE_ENOUGH = MARK + EASY_NAME + sum(c.width + 1 for c in COLUMNS)


def header_line(width: int, *, status: bool = False) -> Text:
    """The column titles, laid out as the rows are."""
    cells = [Text(c.label, style="bold") for c in COLUMNS]
    return _assemble(cells, width, mark="  ", status=status)


def _assemble(cells: list[Text], width: int, mark: str, *, status: bool = False) -> Text:
    """`mark`, then the cells of the columns shown, at their widths, one space apart; a cell
    longer than its column ends with "…"."""
    line = Text(mark, end="")
    for n, (i, cells_wide) in enumerate(column_widths(width, status=status).items()):
        cell = cells[i]
        cell.truncate(cells_wide, overflow="ellipsis", pad=True)
        if n:
            line.append(" ")
        line.append_text(cell)
    line.truncate(width, overflow="ellipsis", pad=True)
    return line


def short_days(text: str) -> str:
    """`12 days ago` -> `12d ago`: how a narrow column says it."""
    return text.replace(" days", "d")


class LeadsTable(VirtualList[LeadRow]):
    """Leads in inbox order; `space` marks rows for bulk actions (the screen decides)."""

    COMPONENT_CLASSES = {
        "leads-table--cursor",
        "leads-table--cursor-blurred",
        "leads-table--marked",
        "leads-table--muted",
        "leads-table--due",
    }
    DEFAULT_CSS = """
    LeadsTable {
        height: 1fr;
        overflow-x: hidden;
        scrollbar-size-vertical: 1;
        & > .leads-table--cursor { background: $accent 35%; }  /* 5:1 or more for every text */
        & > .leads-table--cursor-blurred { background: $panel-lighten-2; }
        & > .leads-table--marked { color: $text-accent; text-style: bold; }
        & > .leads-table--muted { color: $text-muted; }
        & > .leads-table--due { color: $text-warning; }
    }
    """

    def __init__(
        self,
        count: int,
        fetch: Callable[[BlockRequest[LeadRow]], list[LeadRow]],
        *,
        now: Callable[[], datetime],
        tz: ZoneInfo,
        id: str | None = None,
    ) -> None:
        super().__init__(count, fetch, id=id)
        self._now = now
        self._tz = tz
        self.marked: set[uuid.UUID] = set()
        self._drawn_layout: tuple[int, bool] = (-1, False)
        self.show_status = False  # set by the screen before a reload

    @dataclass
    class WidthChanged(Message):
        """The rows' width (or their columns) changed: the screen lays its column titles out
        the same way."""

        width: int
        status: bool = False

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if (width, self.show_status) != self._drawn_layout:
            self._drawn_layout = (width, self.show_status)
            self.post_message(self.WidthChanged(width, self.show_status))
        return super().render_line(y)

    def _request(self, block: int) -> BlockRequest[LeadRow]:
        # The inbox order mixes directions and NULLs, so pages go by position on the index.
        return cold_request(block, self.count)

    def toggle_mark(self) -> None:
        lead = self.current
        if lead is None:
            return
        self.marked.symmetric_difference_update({lead.id})
        self._lines.clear()
        self.refresh_item(self.cursor)

    def clear_marks(self) -> None:
        self.marked.clear()
        self._lines.clear()
        self.refresh()

    def item_key(self, index: int, item: LeadRow) -> Hashable:
        return (item.id, item.version, item.id in self.marked)

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"leads-table--{name}", partial=True)

    def item_strips(self, index: int, item: LeadRow, width: int) -> list[Strip]:
        now = self._now()
        muted = self._style("muted")
        due = item.next_task_at is not None and item.next_task_at <= now
        age = days_ago(item.created_at, now, self._tz, never="—").replace(" ago", "")
        touched = days_ago(item.last_interaction_at, now, self._tz)
        if width < WIDE_ENOUGH:  # the narrow widths: "3d", "12d ago"
            age, touched = short_days(age).replace("yesterday", "1d"), short_days(touched)
        cells = [
            safe_text(item.name, style=self._style("marked") if item.id in self.marked else "bold"),
            safe_text(item.lead_source, style=muted),
            Text(age, end=""),
            Text(touched, end=""),
            safe_text(
                # Due: a "!" with the colour (colour alone is no signal).
                (("!" if due else "") + local_date(item.next_task_at, self._tz))
                if item.next_task_at
                else None,
                style=self._style("due") if due else "",
            ),
            safe_text(item.owner_name, empty="unassigned", style=muted),
            safe_text(phone_display(item.phone, item.phone_ext)),
            Text(item.status.value, style=muted, end=""),
        ]
        mark = "● " if item.id in self.marked else "  "
        line = _assemble(cells, width, mark=mark, status=self.show_status)
        state = self.cursor_state(index)
        segments = list(line.render(self.app.console))
        strip = Strip(segments).adjust_cell_length(width)
        if state:
            name = "leads-table--cursor" if state == 2 else "leads-table--cursor-blurred"
            strip = strip.apply_style(self.get_component_rich_style(name))
        return [strip]
