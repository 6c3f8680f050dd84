"""My tasks as a virtual list: a header line per bucket (Overdue, Today, Upcoming, with its
count), then its tasks one line each: due, kind, customer, deal, title, assignee. Only the
visible lines are drawn; each bucket is read a block at a time (keyset after a loaded task)."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

from rich.style import Style
from rich.text import Text
from textual.message import Message
from textual.strip import Strip

from ..tasks.due import due_label
from ..tasks.model import Bucket, TaskRow, kind_label
from ..ui.display import plural, safe_text
from .virtual_list import BLOCK, BlockRequest, VirtualList

BUCKET_TITLES = {Bucket.overdue: "Overdue", Bucket.today: "Today", Bucket.upcoming: "Upcoming"}


@dataclass(frozen=True)
class GroupLine:
    """A bucket's header line."""

    bucket: str
    count: int


@dataclass(frozen=True)
class TaskLine:
    bucket: str
    task: TaskRow


ListLine = GroupLine | TaskLine
# Reads `limit` tasks of a bucket: from `offset`, or after a task already loaded (keyset).
FetchBucket = Callable[[str, int, int, TaskRow | None], list[TaskRow]]


class TableColumn(NamedTuple):
    label: str
    width: int  # cells; the title takes what is left


COLUMNS = (
    TableColumn("Due", 15),
    TableColumn("Kind", 10),
    TableColumn("Customer", 18),
    TableColumn("Deal", 6),
    TableColumn("Task", 0),
    TableColumn("Assignee", 14),
)
TITLE = 4  # the column that stretches
MIN_TITLE = 16
DROP_ORDER = ("Deal", "Kind")  # when the terminal is narrow (80 columns)
MARK = 2


def visible_columns(width: int, *, assignee: bool) -> list[int]:
    """Indexes of the columns that fit `width` with the title at least MIN_TITLE wide."""
    shown = [i for i, c in enumerate(COLUMNS) if assignee or c.label != "Assignee"]
    for label in DROP_ORDER:
        others = sum(COLUMNS[i].width + 1 for i in shown if i != TITLE)
        if width - MARK - others >= MIN_TITLE:
            break
        shown.remove(next(i for i in shown if COLUMNS[i].label == label))
    return shown


def assemble(cells: list[Text], width: int, *, assignee: bool, mark: str = "  ") -> Text:
    shown = visible_columns(width, assignee=assignee)
    others = sum(COLUMNS[i].width + 1 for i in shown if i != TITLE)
    title_width = max(MIN_TITLE, width - len(mark) - others)
    line = Text(mark, end="", no_wrap=True)
    for n, i in enumerate(shown):
        cell = cells[i]
        cell.truncate(COLUMNS[i].width or title_width, overflow="ellipsis", pad=True)
        if n:
            line.append(" ")
        line.append_text(cell)
    line.truncate(width, overflow="ellipsis", pad=True)
    return line


def header_line(width: int, *, assignee: bool) -> Text:
    """The column titles, laid out as the rows are."""
    return assemble([Text(c.label, style="bold") for c in COLUMNS], width, assignee=assignee)


class Layout:
    """Where each bucket's header and tasks sit in the list (empty buckets are left out)."""

    def __init__(self, counts: dict[str, int]) -> None:
        self.groups = [(b, counts.get(b, 0)) for b in Bucket.ALL if counts.get(b, 0)]
        self.starts: list[int] = []
        at = 0
        for _, count in self.groups:
            self.starts.append(at)
            at += 1 + count
        self.total = at

    def locate(self, index: int) -> tuple[str, int | None]:
        """(bucket, the task's place in it), or (bucket, None) for its header line."""
        for (bucket, count), start in zip(self.groups, self.starts, strict=True):
            if start <= index <= start + count:
                return bucket, (None if index == start else index - start - 1)
        raise IndexError(index)

    def header_index(self, bucket: str) -> int | None:
        for (b, _), start in zip(self.groups, self.starts, strict=True):
            if b == bucket:
                return start
        return None


class TaskList(VirtualList[ListLine]):
    """The screen owns the keys; the cursor rests on tasks, never on a header line."""

    COMPONENT_CLASSES = {
        "task-list--cursor",
        "task-list--cursor-blurred",
        "task-list--muted",
        "task-list--overdue",
        "task-list--today",
        "task-list--upcoming",
        "task-list--group",
    }
    DEFAULT_CSS = """
    TaskList {
        height: 1fr;
        overflow-x: hidden;
        scrollbar-size-vertical: 1;
        & > .task-list--cursor { background: $accent 35%; }  /* 5:1 or more for every text */
        & > .task-list--cursor-blurred { background: $panel-lighten-2; }
        & > .task-list--muted { color: $text-muted; }
        & > .task-list--overdue { color: $text-warning; text-style: bold; }
        & > .task-list--today { color: $text; text-style: bold; }  /* the group title says Today */
        & > .task-list--upcoming { color: $text-muted; text-style: bold; }
        & > .task-list--group { background: $boost; }
    }
    """

    @dataclass
    class WidthChanged(Message):
        """The rows' width changed: the screen lays its column titles out the same way."""

        width: int

    def __init__(
        self,
        fetch_bucket: FetchBucket,
        *,
        now: Callable[[], datetime],
        tz: ZoneInfo,
        id: str | None = None,
    ) -> None:
        super().__init__(0, self._fetch_lines, id=id)
        self._fetch_bucket = fetch_bucket
        self._now = now
        self._tz = tz
        self.lines_layout = Layout({})
        self.show_assignee = False
        self._drawn_width = -1

    # --- data -------------------------------------------------------------------------------

    def show(self, counts: dict[str, int], *, show_assignee: bool, cursor: int | None) -> None:
        """New counts (a reload): the lines are fetched again as they come into view."""
        self.lines_layout = Layout(counts)
        self.show_assignee = show_assignee
        self._drawn_width = -1  # the header may gain or lose the assignee column
        self.reload(self.lines_layout.total, cursor=self.cursor if cursor is None else cursor)

    @property
    def current_task(self) -> TaskRow | None:
        line = self.current
        return line.task if isinstance(line, TaskLine) else None

    @property
    def task_count(self) -> int:
        return sum(count for _, count in self.lines_layout.groups)

    def _request(self, block: int) -> BlockRequest[ListLine]:
        start = block * BLOCK
        limit = max(0, min(BLOCK, self.count - start))
        # The line before the block, if loaded: a bucket continues after it (keyset).
        return BlockRequest(offset=start, limit=limit, after=self._items.get(start - 1))

    def _fetch_lines(self, request: BlockRequest[ListLine]) -> list[ListLine]:
        """In the list's worker thread: the header lines are ours, the tasks the screen's."""
        layout, start, end = self.lines_layout, request.offset, request.offset + request.limit
        lines: list[ListLine] = []
        index = start
        while index < end:
            bucket, place = layout.locate(index)
            count = dict(layout.groups)[bucket]
            if place is None:
                lines.append(GroupLine(bucket, count))
                index += 1
                continue
            wanted = min(count - place, end - index)
            before = request.after if index == start else (lines[-1] if lines else None)
            after = before.task if isinstance(before, TaskLine) and place > 0 else None
            rows = self._fetch_bucket(bucket, place, wanted, after)
            lines += [TaskLine(bucket, row) for row in rows]
            if len(rows) < wanted:  # the data changed since it was counted: stop here
                break
            index += wanted
        return lines

    # --- cursor: tasks only -----------------------------------------------------------------

    def _task_index(self, index: int, direction: int) -> int:
        """`index`, or the nearest task line from it going `direction` (then the other way)."""
        if not self.lines_layout.total:
            return 0
        index = max(0, min(index, self.lines_layout.total - 1))
        for step in (direction, -direction):
            at = index
            while 0 <= at < self.lines_layout.total:
                if self.lines_layout.locate(at)[1] is not None:
                    return at
                at += step
        return index

    def move_to(self, index: int) -> None:
        """The cursor to line `index`, or past the header line there the way it moves; a
        bucket's first task brings its header line into view too."""
        direction = 1 if index >= self.cursor else -1
        target = self._task_index(index, direction)
        super().move_to(target)
        if target and self.count and self.lines_layout.locate(target - 1)[1] is None:
            self._scroll_to_item(target - 1)

    # --- drawing ----------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if width != self._drawn_width:
            self._drawn_width = width
            self.post_message(self.WidthChanged(width))
        return super().render_line(y)

    def item_key(self, index: int, item: ListLine) -> Hashable:
        if isinstance(item, GroupLine):
            return ("group", item.bucket, item.count)
        return (item.task.id, item.task.version, item.bucket, self.show_assignee)

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"task-list--{name}", partial=True)

    def item_strips(self, index: int, item: ListLine, width: int) -> list[Strip]:
        console = self.app.console
        if isinstance(item, GroupLine):
            line = Text.assemble(
                " ",
                (BUCKET_TITLES[item.bucket], self._style(item.bucket)),
                ("  " + plural(item.count, "task"), self._style("muted")),
                end="",
                no_wrap=True,
            )
            line.truncate(width, overflow="ellipsis", pad=True)
            strip = Strip(list(line.render(console))).adjust_cell_length(width)
            return [strip.apply_style(self.get_component_rich_style("task-list--group"))]
        task = item.task
        muted = self._style("muted")
        due = due_label(task.due_at, task.all_day, self._now(), self._tz)
        emphasis = self._style(item.bucket) if item.bucket != Bucket.upcoming else Style()
        cells = [
            Text(due, style=emphasis, end=""),
            Text(kind_label(task.kind), style=muted, end=""),
            safe_text(task.customer_name),
            Text(f"#{task.estimate_number}" if task.estimate_number else "", style=muted, end=""),
            safe_text(task.title, style="bold" if item.bucket == Bucket.today else ""),
            safe_text(task.assignee_name, empty="unassigned", style=muted),
        ]
        line = assemble(cells, width, assignee=self.show_assignee)
        strip = Strip(list(line.render(console))).adjust_cell_length(width)
        if state := self.cursor_state(index):
            name = "task-list--cursor" if state == 2 else "task-list--cursor-blurred"
            strip = strip.apply_style(self.get_component_rich_style(name))
        return [strip]
