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
from ..ui.display import days_ago, local_date, safe_text
from .virtual_list import BlockRequest, VirtualList, cold_request


class TableColumn(NamedTuple):
    label: str
    width: int  # cells; the first column takes what is left


COLUMNS = (
    TableColumn("Name", 0),
    TableColumn("Source", 14),
    TableColumn("Age", 10),
    TableColumn("Last touch", 12),
    TableColumn("Next task", 11),
    TableColumn("Owner", 14),
    TableColumn("Phone", 15),
    TableColumn("Status", 8),  # only when every customer is listed, not only leads
)
MIN_NAME = 16
STATUS = len(COLUMNS) - 1


# Dropped first when the terminal is narrow (80 columns): age, then owner, then source.
DROP_ORDER = ("Age", "Owner", "Source")
MARK = 2  # "● " for marked rows


def visible_columns(width: int, *, status: bool = False) -> list[int]:
    """Indexes of the columns that fit `width` with the name at least MIN_NAME wide; the
    status column only when asked for."""
    shown = [i for i in range(len(COLUMNS)) if status or i != STATUS]
    for label in DROP_ORDER:
        others = sum(COLUMNS[i].width + 1 for i in shown[1:])
        if width - MARK - others >= MIN_NAME:
            break
        shown.remove(next(i for i in shown if COLUMNS[i].label == label))
    return shown


def header_line(width: int, *, status: bool = False) -> Text:
    """The column titles, laid out as the rows are."""
    cells = [Text(c.label, style="bold") for c in COLUMNS]
    return _assemble(cells, width, mark="  ", status=status)


def _assemble(cells: list[Text], width: int, mark: str, *, status: bool = False) -> Text:
    """`mark`, then the cells that fit at their column widths, one space apart; the name
    takes the room the others leave."""
    shown = visible_columns(width, status=status)
    others = sum(COLUMNS[i].width + 1 for i in shown[1:])
    name_width = max(MIN_NAME, width - len(mark) - others)
    line = Text(mark, end="")
    for n, i in enumerate(shown):
        cell = cells[i]
        cell.truncate(COLUMNS[i].width or name_width, overflow="ellipsis", pad=True)
        if n:
            line.append(" ")
        line.append_text(cell)
    line.truncate(width, overflow="ellipsis", pad=True)
    return line


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
        & > .leads-table--cursor { background: $accent 45%; }
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
        cells = [
            safe_text(item.name, style=self._style("marked") if item.id in self.marked else "bold"),
            safe_text(item.lead_source, style=muted),
            Text(days_ago(item.created_at, now, self._tz, never="—").replace(" ago", ""), end=""),
            Text(days_ago(item.last_interaction_at, now, self._tz), end=""),
            safe_text(
                local_date(item.next_task_at, self._tz) if item.next_task_at else None,
                style=self._style("due") if due else "",
            ),
            safe_text(item.owner_name, empty="unassigned", style=muted),
            safe_text(item.phone),
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
