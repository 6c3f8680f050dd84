"""When a task is due, as people type it and as lists show it.

Typed: a day ("today", "tomorrow", "+3" days, "+2w" weeks, a weekday "fri", "2026-12-05")
with an optional time ("14:30", "2pm", "9:15am", "noon"), or a time alone (today). No time:
an all-day task, due at the start of its day in the business time zone. Days before today are
refused; any time today is taken (a call logged late is still today's). Times are wall-clock
times where the business is, so a task stays at 9:00 across a daylight-saving change; a time
that does not exist on a spring-forward day lands where the clock jumps to (2:30 -> 3:30).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..base.errors import UserError

__all__ = [
    "HELP",
    "day_start",
    "due_label",
    "due_text",
    "local_today",
    "parse_day",
    "parse_due",
]

HELP = "today, tomorrow, +3, fri or 2026-12-05, and a time if any: 14:30, 2pm, tomorrow 9:15"
MAX_DAYS_AHEAD = 3650

_WEEKDAYS = {
    name: i
    for i, names in enumerate(
        (
            ("mon", "monday"),
            ("tue", "tues", "tuesday"),
            ("wed", "weds", "wednesday"),
            ("thu", "thur", "thurs", "thursday"),
            ("fri", "friday"),
            ("sat", "saturday"),
            ("sun", "sunday"),
        )
    )
    for name in names
}
# A time at the end of the text: 14:30, 9.15, 2pm, 2 pm, 9:15am, 12a, noon, midnight.
_TIME = re.compile(
    r"(?:^|\s)(?:at\s+)?"
    r"(?:(?P<h12>\d{1,2})(?:[:.](?P<m12>\d{2}))?\s*(?P<ampm>am|pm|a|p)"
    r"|(?P<h24>\d{1,2})[:.](?P<m24>\d{2})"
    r"|(?P<word>noon|midnight))$"
)
_RELATIVE = re.compile(r"^\+\s*(?P<n>\d{1,5})\s*(?P<unit>d|day|days|w|wk|week|weeks)?$")


def local_today(now: datetime, tz: ZoneInfo) -> date:
    return now.astimezone(tz).date()


def day_start(day: date, tz: ZoneInfo) -> datetime:
    """The start of `day` in `tz` (an all-day task's due_at)."""
    return datetime.combine(day, time(0, 0), tzinfo=tz)


def _parse_time(match: re.Match[str], original: str) -> time:
    if match["word"]:
        return time(12, 0) if match["word"] == "noon" else time(0, 0)
    if match["h24"] is not None:
        hour, minute = int(match["h24"]), int(match["m24"])
        if hour > 23 or minute > 59:
            raise UserError(f"{original!r}: {hour}:{minute:02d} is not a time of day")
        return time(hour, minute)
    hour, minute = int(match["h12"]), int(match["m12"] or 0)
    if not 1 <= hour <= 12 or minute > 59:
        raise UserError(f"{original!r}: {match.group().strip()} is not a time of day")
    hour %= 12
    if match["ampm"].startswith("p"):
        hour += 12
    return time(hour, minute)


def _parse_day(text: str, today: date, original: str) -> date | None:
    if text in ("", "today", "tod"):
        return today
    if text in ("tomorrow", "tmrw", "tmw", "tom"):
        return today + timedelta(days=1)
    if (rel := _RELATIVE.match(text)) is not None:
        n = int(rel["n"])
        weeks = (rel["unit"] or "d").startswith("w")
        days = n * 7 if weeks else n
        if days > MAX_DAYS_AHEAD:
            raise UserError(f"{original!r} is more than ten years away")
        return today + timedelta(days=days)
    if text.startswith("next ") and text[5:] in _WEEKDAYS:
        text = text[5:]
    if text in _WEEKDAYS:
        # The coming one: "fri" on a Friday is next week's (today is "today").
        ahead = (_WEEKDAYS[text] - today.weekday() - 1) % 7 + 1
        return today + timedelta(days=ahead)
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(f"{original!r}: {text} is not a day of the calendar") from None


def parse_day(text: str, today: date) -> date | None:
    """A day in the words people type wherever a day is asked for (a task's due, a deal's
    expected close): today, tomorrow, +3 (days), +2w (weeks), a weekday (fri: the coming one),
    2026-12-05. None: blank, or not a day in these words; UserError: a day that cannot be
    (2026-02-30, more than ten years away). Days before today are the caller's to judge."""
    value = " ".join(text.lower().split())
    return _parse_day(value, today, text.strip()) if value else None


def parse_due(text: str, now: datetime, tz: ZoneInfo) -> tuple[datetime, bool]:
    """(due_at, all_day) for what a person typed (see the module's docstring). due_at is
    aware, in `tz`; refused with a UserError that says what is understood."""
    original = (text or "").strip()
    value = " ".join(original.lower().split())
    if not value:
        raise UserError(f"when is it due? {HELP}")
    at: time | None = None
    if (found := _TIME.search(value)) is not None:
        at = _parse_time(found, original)
        value = value[: found.start()].strip()
        value = value.removesuffix(" at").strip()
    today = local_today(now, tz)
    day = _parse_day(value, today, original)
    if day is None:
        raise UserError(f"{original!r} is not a due date: {HELP}")
    if day < today:
        raise UserError(f"{day.isoformat()} is in the past")
    if (day - today).days > MAX_DAYS_AHEAD:
        raise UserError(f"{day.isoformat()} is more than ten years away")
    if at is None:
        return day_start(day, tz), True
    # fold=0: a wall time that happens twice (fall back) is its first; one that does not
    # exist (spring forward) is read with the offset before the jump, i.e. after it.
    local = datetime.combine(day, at, tzinfo=tz)
    return local.astimezone(UTC).astimezone(tz), False


def due_text(due_at: datetime, all_day: bool, tz: ZoneInfo) -> str:
    """What `parse_due` reads back to the same due: for a form's field being edited."""
    local = due_at.astimezone(tz)
    return local.strftime("%Y-%m-%d") if all_day else local.strftime("%Y-%m-%d %H:%M")


def due_label(due_at: datetime, all_day: bool, now: datetime, tz: ZoneInfo) -> str:
    """Short, for lists: "today", "today 14:30", "tomorrow 9:15", "Fri", "Dec 5",
    "2027-01-04", "3d overdue" (all-day days before today), "yesterday 16:00"."""
    local = due_at.astimezone(tz)
    today = local_today(now, tz)
    days = (local.date() - today).days
    clock = "" if all_day else f" {local:%H:%M}"
    if days == 0:
        return f"today{clock}"
    if days == 1:
        return f"tomorrow{clock}"
    if days == -1:
        return f"yesterday{clock}"
    if days < 0:
        return f"{-days}d overdue" if all_day else f"{local:%b} {local.day}{clock}"
    if days < 7:
        return f"{local:%a}{clock}"
    if local.year == today.year or days < 180:
        return f"{local:%b} {local.day}{clock}"
    return f"{local:%Y-%m-%d}{clock}"
