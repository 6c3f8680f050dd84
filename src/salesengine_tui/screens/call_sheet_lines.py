"""What Quick Call shows of the customer's sheet: a line per open task (the one the call
completes ticked), the count that stays open under the list, and the last contacts."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from rich.text import Text

from ..customers.profile import CallSheet, InteractionLine
from ..tasks.due import due_label
from ..tasks.model import TaskRow, kind_label
from ..tasks.pages import bucket_of
from ..ui.display import days_ago, plural, visible
from ..widgets.dashboard_cells import DUE_SOON, WON

_GLYPH = {"call": "☎", "email": "✉", "sms": "✆", "meeting": "◎"}


def task_prompt(task: TaskRow, chosen: bool, now: datetime, tz: ZoneInfo) -> Text:
    """`✔ today Call · Ask about the quote` (the tick: the task the call completes)."""
    bucket = bucket_of(task, now, tz)
    style = {"overdue": DUE_SOON, "today": "bold"}.get(bucket, "")
    return Text.assemble(
        ("✔ " if chosen else "  ", WON),
        (due_label(task.due_at, task.all_day, now, tz), style),
        (f" {kind_label(task.kind)} · ", "dim"),
        visible(task.title),
        no_wrap=True,
        overflow="ellipsis",
    )


def open_tasks_note(total: int, chosen: bool, failed: bool) -> str:
    """Under the task list: how many of the customer's open tasks stay open after the call."""
    if failed:
        return "not loaded: for no task"
    if not total:
        return "no open tasks"
    if not chosen:
        return f"{plural(total, 'open task')} stay{'s' * (total == 1)} open"
    others = total - 1
    return f"{others} other stays open" if others == 1 else f"{others} others stay open"


def interaction_line(item: InteractionLine, now: datetime, tz: ZoneInfo, width: int) -> Text:
    """`☎ voicemail · yesterday · Sam Ortiz · Left a message about…` (the notes' first line)."""
    what = item.outcome.replace("_", " ") if item.outcome else item.direction
    first = (item.notes or "").strip().split("\n", 1)[0]
    line = Text.assemble(
        (f"{_GLYPH.get(item.type, '•')} {item.type} {what}", "bold"),
        (f" · {days_ago(item.at, now, tz)}", "dim"),
        (f" · {visible(item.by)}" if item.by else "", "dim"),
        (" · " if first else "", "dim"),
        visible(first),
        no_wrap=True,
        end="",
    )
    line.truncate(width, overflow="ellipsis")
    return line


def last_contacts(sheet: CallSheet, now: datetime, tz: ZoneInfo, width: int) -> Text:
    """The "Last contacts" block: a heading, then a line per recent interaction."""
    lines = [Text("Last contacts", style="bold underline", end="")]
    lines += [interaction_line(i, now, tz, width) for i in sheet.recent]
    if not sheet.recent:
        lines.append(Text("no earlier contact", style="dim", end=""))
    return Text("\n").join(lines)
