"""A person's open tasks as an iCalendar document (RFC 5545), for a phone's calendar to
subscribe to: written by hand, no dependency.

Each task is a VEVENT, not a VTODO: the calendars people subscribe from a phone (Google,
Apple, Outlook) show events and ignore to-dos. An all-day task is a DATE event on its day
(the business's calendar day); a timed one starts at its due time (in UTC) and lasts half an
hour (an hour for meetings and site visits), with an alarm ten minutes before. The UID is the
task's id, so a refreshed subscription updates events instead of duplicating them, and
SEQUENCE follows the task's version.

Text from the database is never trusted: hidden characters (controls, bidi, zero-width) are
left out, and `\\ ; ,` and newlines are escaped; lines are folded at 75 octets without
splitting a UTF-8 character, and end in CRLF.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session

from ..access import permissions
from ..access.users import Actor
from ..base.errors import NotFound, PermissionDenied
from ..base.validation import without_hidden
from ..db.models import TaskKind, User
from .model import TaskRow, kind_label
from .queries import open_tasks_for_user

__all__ = ["PRODID", "Calendar", "calendar_for", "escape_text", "fold", "render"]

PRODID = "-//SalesEngine//SalesEngine TUI tasks//EN"
ALARM_BEFORE = timedelta(minutes=10)
EXPORT_LIMIT = 5000
_LONG = {TaskKind.meeting, TaskKind.site_visit}


@dataclass(frozen=True)
class Calendar:
    text: str  # the whole document, CRLF line ends
    count: int  # events in it
    name: str  # whose tasks


def clean(text: str | None) -> str:
    """Text as it may appear in a calendar: line ends as newlines, tabs as spaces, every
    hidden character left out."""
    value = (text or "").replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return without_hidden(value, keep="\n")


def escape_text(text: str | None) -> str:
    """An RFC 5545 TEXT value (3.3.11): backslash, semicolon, comma and newline escaped."""
    value = clean(text)
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def fold(line: str) -> str:
    """One content line folded at 75 octets (3.1): each continuation starts with a space and
    no UTF-8 character is split."""
    data = line.encode("utf-8")
    if len(data) <= 75:
        return line
    parts: list[str] = []
    limit = 75
    start = 0
    while start < len(data):
        end = min(start + limit, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:  # inside a character: back up
            end -= 1
        parts.append(data[start:end].decode("utf-8"))
        start = end
        limit = 74  # the leading space counts
    return "\r\n ".join(parts)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _event(task: TaskRow, *, stamp: str, tz: ZoneInfo) -> list[str]:
    kind = kind_label(task.kind).capitalize()
    summary = f"{kind}: {clean(task.customer_name)} \u2014 {clean(task.title)}"
    details = [f"{kind}: {task.title}"]
    if task.customer_phone:
        ext = f" ext. {task.customer_phone_ext}" if task.customer_phone_ext else ""
        details.append(f"Phone: {task.customer_phone}{ext}")
    if task.estimate_number is not None:
        details.append(f"Deal #{task.estimate_number}")
    if task.notes:
        details += ["", task.notes]
    lines = [
        "BEGIN:VEVENT",
        f"UID:{task.id}@salesengine",
        f"DTSTAMP:{stamp}",
        f"SEQUENCE:{max(0, task.version - 1)}",
    ]
    if task.all_day:
        day = task.due_at.astimezone(tz).date()
        lines += [
            f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
            f"DTEND;VALUE=DATE:{day + timedelta(days=1):%Y%m%d}",
            "TRANSP:TRANSPARENT",
        ]
    else:
        length = timedelta(hours=1) if task.kind in _LONG else timedelta(minutes=30)
        lines += [f"DTSTART:{_utc(task.due_at)}", f"DTEND:{_utc(task.due_at + length)}"]
    lines += [
        f"SUMMARY:{escape_text(summary)}",
        f"DESCRIPTION:{escape_text(chr(10).join(details))}",
        "CATEGORIES:" + escape_text(kind),
        "STATUS:CONFIRMED",
    ]
    if not task.all_day:
        lines += [
            "BEGIN:VALARM",
            "ACTION:DISPLAY",
            f"DESCRIPTION:{escape_text(summary)}",
            f"TRIGGER:-PT{int(ALARM_BEFORE.total_seconds() // 60)}M",
            "END:VALARM",
        ]
    lines.append("END:VEVENT")
    return lines


def render(tasks: list[TaskRow], *, name: str, now: datetime, tz: ZoneInfo) -> str:
    """The document for `tasks` (whose owner is `name`)."""
    stamp = _utc(now)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(f'SalesEngine tasks: {name}')}",
        f"X-WR-TIMEZONE:{tz.key}",
        # How often a subscribed calendar should fetch it again.
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
    ]
    for task in tasks:
        lines += _event(task, stamp=stamp, tz=tz)
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


def calendar_for(
    session: Session, actor: Actor, login: str, *, now: datetime, tz: ZoneInfo
) -> Calendar:
    """`login`'s open tasks: managers export anyone's, everyone else only their own."""
    user = session.execute(sa.select(User).where(User.login == login)).scalar_one_or_none()
    if user is None:
        raise NotFound(f"no user with login {login!r} (see `salesengine users list`)")
    if user.id != actor.id and not permissions.allowed(actor, permissions.Action.reassign):
        raise PermissionDenied(
            f"only managers may export someone else's tasks; {actor.name} ({actor.login}) is a "
            f"{actor.role.value} and exports their own (--user {actor.login})"
        )
    tasks = open_tasks_for_user(session, user.id, limit=EXPORT_LIMIT)
    return Calendar(render(tasks, name=user.name, now=now, tz=tz), len(tasks), user.name)
