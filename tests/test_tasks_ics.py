"""`salesengine tasks export --user LOGIN --ics FILE`: a person's open tasks as iCalendar,
read back by a small strict RFC 5545 parser (CRLF, folding at 75 octets, escaping, nesting),
with hostile text left out, who may export whose, and the file replaced atomically."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from factories import FIXED_NOW, Desk, add_task, app_context
from sqlalchemy import Engine
from sqlalchemy.engine import URL
from test_cli import _url, run

from salesengine_tui.base.clock import FixedClock
from salesengine_tui.base.errors import NotFound, PermissionDenied
from salesengine_tui.db.engine import session_scope
from salesengine_tui.db.models import Customer, Estimate, TaskKind
from salesengine_tui.tasks import ics
from salesengine_tui.usecases import Desk as AppDesk

TZ = ZoneInfo("America/Chicago")
HOSTILE = "Ring\x1b[2J back; ask, \\ then\u202e\u200b go"


# --- a small strict reader ---------------------------------------------------------------


@dataclass
class Component:
    name: str
    props: list[tuple[str, dict[str, str], str]] = field(default_factory=list)
    children: list[Component] = field(default_factory=list)

    def one(self, name: str) -> tuple[dict[str, str], str]:
        found = [(p, v) for n, p, v in self.props if n == name]
        assert len(found) == 1, f"{self.name}: {name} appears {len(found)} times"
        return found[0]

    def value(self, name: str) -> str:
        return self.one(name)[1]


TEXT_PROPS = {"SUMMARY", "DESCRIPTION", "CATEGORIES", "X-WR-CALNAME"}


def unescape(value: str) -> str:
    """RFC 5545 3.3.11: only \\\\ \\; \\, \\n \\N escapes; a bare ; or , is an error."""
    out, i = [], 0
    while i < len(value):
        ch = value[i]
        if ch == "\\":
            nxt = value[i + 1 : i + 2]
            assert nxt in ("\\", ";", ",", "n", "N"), f"bad escape \\{nxt} in {value!r}"
            out.append("\n" if nxt in "nN" else nxt)
            i += 2
            continue
        assert ch not in ";,", f"unescaped {ch!r} in {value!r}"
        out.append(ch)
        i += 1
    return "".join(out)


def parse(data: bytes) -> Component:
    assert data.endswith(b"\r\n"), "the last line ends with CRLF"
    physical = data[:-2].split(b"\r\n")
    for line in physical:
        assert b"\n" not in line and b"\r" not in line, f"bare line break in {line!r}"
        assert len(line) <= 75, f"line of {len(line)} octets: {line!r}"
        line.decode("utf-8")  # each physical line is whole UTF-8: no character split
    logical: list[str] = []
    for line in physical:
        text = line.decode("utf-8")
        if text.startswith((" ", "\t")):
            assert logical, "a continuation before any line"
            logical[-1] += text[1:]
        else:
            logical.append(text)
    stack: list[Component] = []
    root: Component | None = None
    for line in logical:
        assert not re.search(r"[\x00-\x08\x0a-\x1f\x7f]", line), f"control in {line!r}"
        head, sep, value = line.partition(":")
        assert sep, f"no colon in {line!r}"
        name, *params = head.split(";")
        assert re.fullmatch(r"[A-Z][A-Z0-9-]*", name), name
        pdict = dict(p.split("=", 1) for p in params)
        if name == "BEGIN":
            comp = Component(value)
            if stack:
                stack[-1].children.append(comp)
            else:
                assert root is None, "one VCALENDAR"
                root = comp
            stack.append(comp)
        elif name == "END":
            assert stack and stack[-1].name == value, f"END:{value} closes nothing open"
            stack.pop()
        else:
            assert stack, f"{name} outside any component"
            stack[-1].props.append((name, pdict, unescape(value) if name in TEXT_PROPS else value))
    assert not stack and root is not None and root.name == "VCALENDAR"
    return root


# --- data -------------------------------------------------------------------------------------


@pytest.fixture
def tasks(engine: Engine, desk: Desk) -> dict[str, object]:
    with session_scope(engine) as s:
        c = {name: s.get(Customer, x.id) for name, x in desk.customers.items()}
        sam, dana = s.merge(desk.rep), s.merge(desk.manager)
        peggys = s.execute(
            sa.select(Estimate).where(Estimate.customer_id == c["Peggy Hill"].id)
        ).scalar_one()
        made = {
            "timed": add_task(s, c["Peggy Hill"], "Call about the quote", assignee=sam,
                              due_at=datetime(2026, 11, 25, 9, 15, tzinfo=TZ), estimate=peggys,
                              notes="Bring the brochure.\nAsk about financing, rebates; \\ etc."),
            "all_day": add_task(s, c["Dale Gribble"], "Drop off the quote", assignee=sam,
                                kind=TaskKind.site_visit, due_at=datetime(2026, 11, 27, tzinfo=TZ),
                                all_day=True),
            "hostile": add_task(s, c["Peggy Hill"], HOSTILE, assignee=sam,
                                due_at=FIXED_NOW + timedelta(days=3), notes="x\x07y\r\nz"),
            "long": add_task(s, c["Peggy Hill"], "Überprüfung " + "é✓" * 60, assignee=sam,
                             kind=TaskKind.meeting, due_at=FIXED_NOW + timedelta(days=4)),
            "done": add_task(s, c["Peggy Hill"], "Done one", assignee=sam, due_at=FIXED_NOW,
                             done_at=FIXED_NOW, done_by=sam),
            "danas": add_task(s, c["Bill Dauterive"], "Dana's", assignee=dana, due_at=FIXED_NOW),
        }  # fmt: skip
        return {k: (v.id, v.customer_id) for k, v in made.items()}


def events_by_uid(calendar: Component) -> dict[str, Component]:
    events = [c for c in calendar.children if c.name == "VEVENT"]
    assert all(c.name == "VEVENT" for c in calendar.children)
    return {e.value("UID"): e for e in events}


def test_the_calendar_reads_back(engine: Engine, desk: Desk, tasks: dict) -> None:
    sam = AppDesk(app_context(engine, FixedClock(FIXED_NOW), desk.rep))
    exported = sam.tasks.export_ics("sam")
    calendar = parse(exported.text.encode("utf-8"))
    assert calendar.value("VERSION") == "2.0" and calendar.value("PRODID") == ics.PRODID
    assert calendar.value("X-WR-CALNAME") == "SalesEngine tasks: Sam Ortiz"
    events = events_by_uid(calendar)
    uid = {name: f"{task_id}@salesengine" for name, (task_id, _) in tasks.items()}
    # Sam's open ones, and Hank's seeded follow-up; not the done one, not Dana's
    assert exported.count == len(events) == 5
    assert uid["done"] not in events and uid["danas"] not in events
    for event in events.values():
        assert event.value("DTSTAMP") == "20261124T150000Z"

    timed = events[uid["timed"]]
    assert timed.value("SUMMARY") == "Call: Peggy Hill \u2014 Call about the quote"
    assert timed.one("DTSTART") == ({}, "20261125T151500Z")  # 9:15 in Chicago, in UTC
    assert timed.value("DTEND") == "20261125T154500Z"
    description = timed.value("DESCRIPTION")
    assert "Phone: +12145550102" in description and "Deal #" in description
    assert description.endswith("Bring the brochure.\nAsk about financing, rebates; \\ etc.")
    (alarm,) = timed.children
    assert (alarm.name, alarm.value("ACTION"), alarm.value("TRIGGER")) == (
        "VALARM",
        "DISPLAY",
        "-PT10M",
    )

    all_day = events[uid["all_day"]]
    assert all_day.one("DTSTART") == ({"VALUE": "DATE"}, "20261127")
    assert all_day.one("DTEND") == ({"VALUE": "DATE"}, "20261128")
    assert all_day.value("SUMMARY") == "Site visit: Dale Gribble \u2014 Drop off the quote"
    assert all_day.children == []  # no alarm for a whole day

    hostile = events[uid["hostile"]]
    assert hostile.value("SUMMARY") == "Call: Peggy Hill \u2014 Ring[2J back; ask, \\ then go"
    assert hostile.value("DESCRIPTION").endswith("xy\nz")
    assert "\x1b" not in exported.text and "\u202e" not in exported.text

    long = events[uid["long"]]
    assert long.value("SUMMARY") == "Meeting: Peggy Hill \u2014 Überprüfung " + "é✓" * 60
    start = datetime.strptime(long.value("DTSTART"), "%Y%m%dT%H%M%SZ")
    end = datetime.strptime(long.value("DTEND"), "%Y%m%dT%H%M%SZ")
    assert end - start == timedelta(hours=1)  # a meeting: an hour


def test_who_may_export_whose(engine: Engine, desk: Desk, tasks: dict) -> None:
    clock = FixedClock(FIXED_NOW)
    sam = AppDesk(app_context(engine, clock, desk.rep))
    dana = AppDesk(app_context(engine, clock, desk.manager))
    with pytest.raises(PermissionDenied, match="only managers may export someone else's"):
        sam.tasks.export_ics("dana")
    assert dana.tasks.export_ics("sam").count == 5
    assert dana.tasks.export_ics("dana").count == 1
    with pytest.raises(NotFound, match="no user with login 'rita'"):
        dana.tasks.export_ics("rita")


def test_folding_never_splits_a_character() -> None:
    for text in ("a" * 200, "é" * 100, "✓" * 80, "x" + "🙂" * 40, "ab" * 37 + "é"):
        line = "SUMMARY:" + text
        folded = ics.fold(line).encode("utf-8")
        parts = folded.split(b"\r\n")
        assert all(len(p) <= 75 for p in parts)
        assert all(p.startswith(b" ") for p in parts[1:])
        assert b"".join([parts[0], *(p[1:] for p in parts[1:])]).decode("utf-8") == line
    assert ics.fold("SHORT:x") == "SHORT:x"
    assert ics.escape_text("a\\b;c,d\ne\r\nf\tg\x1bh") == "a\\\\b\\;c\\,d\\ne\\nf gh"


def test_the_command_writes_the_file_whole(
    db_url: URL, engine: Engine, desk: Desk, tasks: dict, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    url = ("--database-url", _url(db_url))
    target = tmp_path / "sam.ics"
    target.write_text("old contents")
    before = target.stat().st_ino
    code, _, err = run(capsys, *url, "--user", "sam", "tasks", "export", "--user", "sam",
                       "--ics", str(target))  # fmt: skip
    assert code == 0 and "exported 5 open tasks of sam" in err
    data = target.read_bytes()
    assert len(events_by_uid(parse(data))) == 5
    assert target.stat().st_ino != before  # replaced, not written into
    assert [p.name for p in tmp_path.iterdir()] == ["sam.ics"]  # no temporary file left
    # a manager exports anyone's; to standard output with -
    code, out, _ = run(capsys, *url, "--user", "dana", "tasks", "export", "--user", "sam",
                       "--ics", "-")  # fmt: skip
    assert code == 0 and len(events_by_uid(parse(out.encode("utf-8")))) == 5
    # a rep may not, and nothing is written
    code, _, err = run(capsys, *url, "--user", "sam", "tasks", "export", "--user", "dana",
                       "--ics", str(tmp_path / "dana.ics"))  # fmt: skip
    assert code == 1 and "only managers may export someone else's tasks" in err
    assert not (tmp_path / "dana.ics").exists()
    code, _, err = run(capsys, *url, "--user", "sam", "tasks", "export", "--user", "sam",
                       "--ics", str(tmp_path / "missing" / "x.ics"))  # fmt: skip
    assert code == 1 and "is not a folder" in err
