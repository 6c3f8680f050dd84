"""Issue 14.1, the display side: terminal control sequences planted in the data never reach the
terminal. Every class of sequence goes into every text column the app shows; then every screen,
picker, prompt and toast is walked, and what the app writes to its terminal is read back:

- in process, through Pilot, with a driver that keeps every string the app writes (Textual's
  own driver writes the same strings to the tty; the headless one draws nothing);
- the real `salesengine` in a pseudo-terminal (120x40, xterm-256color), keys sent to it, every
  byte read back; the CLI printers the same way.

What must never be in the stream: an ESC that does not start one of the driver's own sequences
(CSI, and Textual's pointer shape OSC 22; so no OSC 52/0/8, no DCS, no string terminator), a planted CSI, any C1 byte, any
other C0 control than a newline, a bidi or zero-width character. What must be there: the visible
stand-ins (`␛`) right after each planted column's tag, proof the column was on screen."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import unicodedata
from datetime import date
from pathlib import Path

import pytest
from factories import FIXED_NOW, Desk, add_interaction, app_context, stages_of
from pilot_helpers import settle, wait_listening, wait_until
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL
from sqlmodel import Session
from test_ssh import key_line
from textual.drivers.headless_driver import HeadlessDriver
from waiting import listener_connected, wait_for

from salesengine_tui.access.users import Actor
from salesengine_tui.activity.notifications import CHANNEL
from salesengine_tui.app import SalesEngineApp
from salesengine_tui.db.models import Blast, Equipment, Notification, Segment, Ticket
from salesengine_tui.deals import board

SIZE = (120, 40)
# Every class of sequence: CSI (clear screen), OSC 52 (write the clipboard), OSC 0 (window
# title), OSC 8 (a hyperlink, ended by ESC \), DCS (XTGETTCAP, ended by ESC \), a one-byte C1
# CSI asking for a reply, carriage return, backspace, a right-to-left override, a zero-width space.
PAYLOAD = (
    "\x1b[2J"
    "\x1b]52;c;aGk=\x07"
    "\x1b]0;pwned\x07"
    "\x1b]8;;http://evil.example/\x1b\\link\x1b]8;;\x1b\\"
    "\x1bP+q544e\x1b\\"
    "\x9b6n"
    "\r\b\u202e\u200b!"
)
STAND_IN = "␛[2J"  # what the first sequence must look like on screen
# The driver's own: CSI sequences, and Textual's mouse pointer shape (OSC 22, a word).
OWN = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\]22;[a-z-]*\x07")


def evil(tag: str) -> str:
    return f"{tag}{PAYLOAD}"


def plant(engine: Engine, desk: Desk) -> None:
    """The payload, after a tag (QQ01...), in every text column the app shows."""
    hank = desk.customers["Hank Hill"]
    with Session(engine) as s:
        s.execute(
            text("UPDATE customers SET name = :n, address = :a, city = :c, lead_source = :l, "
                 "state = :st, email = 'hank@example.com' WHERE id = :id"),
            {"n": evil("QQ01"), "a": evil("QQ02"), "c": evil("QQ03"), "l": evil("QQ04"),
             "st": evil("QQ06"), "id": hank.id},
        )  # fmt: skip
        # his open task (seeded: a follow-up in two days) is what a next step became
        s.execute(text("UPDATE tasks SET title = :x WHERE customer_id = :id"),
                  {"x": evil("QQ05"), "id": hank.id})  # fmt: skip
        s.execute(
            text("UPDATE estimates SET title = :t WHERE customer_id = :id"),
            {"t": evil("QQ08"), "id": hank.id},
        )
        new = stages_of(s, "Residential Replacements")["New"]
        s.execute(text("UPDATE deal_stages SET name = :n WHERE id = :id"),
                  {"n": evil("QQ09"), "id": new.id})  # fmt: skip
        s.execute(text("UPDATE estimate_stage_history SET to_stage_name = :n WHERE to_stage_id = :id"),
                  {"n": evil("QQ10"), "id": new.id})  # fmt: skip
        s.execute(text("UPDATE deal_pipelines SET name = :n WHERE name = 'Residential Replacements'"),
                  {"n": evil("QQ11")})  # fmt: skip
        for login, tag in (("sam", "QQ12"), ("dana", "QQ13")):
            s.execute(text("UPDATE users SET name = :n WHERE login = :l"),
                      {"n": evil(tag), "l": login})  # fmt: skip
        add_interaction(s, hank, desk.rep, notes=evil("QQ07") + "\nsecond line " + evil("QQ07"))
        city_is_hanks = {"field": "city", "op": "=", "value": evil("QQ03")}
        s.add(Segment(name=evil("QQ14"), definition=city_is_hanks, created_by=desk.manager.id))
        s.add(Segment(name="evilseg", definition=city_is_hanks, created_by=desk.manager.id))
        s.add(Blast(content_key="planted", definition=city_is_hanks, subject=evil("QQ17"),
                    body=evil("QQ18") + "\nBye", segment_name=evil("QQ19"), recipients=1,
                    created_by=desk.manager.id, created_at=FIXED_NOW))  # fmt: skip
        s.add(Notification(user_id=desk.manager.id, kind="upsell", title=evil("QQ20"),
                           body=evil("QQ21"), customer_id=hank.id, created_at=FIXED_NOW))  # fmt: skip
        unit = Equipment(customer_id=hank.id, kind="QQ23\x1b[2J\u202e", brand=evil("QQ24"),
                         installed_on=date(2001, 1, 1))  # fmt: skip
        s.add(unit)
        s.flush()
        s.add(Ticket(customer_id=hank.id, equipment_id=unit.id, summary=evil("QQ22"),
                     opened_at=FIXED_NOW))  # fmt: skip
        s.commit()


# Zero-width (non-)joiners are text (Persian, Indic scripts, emoji need them): they neither hide
# nor reorder anything, so entry keeps them and the terminal shows them as they are.
JOINERS = "\u200c\u200d"


def problems(stream: str, must_show: list[str], cleaned: tuple[str, ...] = ()) -> list[str]:
    """What is wrong with the terminal stream `stream` (empty: nothing). `must_show`: tags shown
    with their stand-ins; `cleaned`: tags shown in an editable box, hidden characters left out."""
    found = []
    if "\x1b[2J" in stream:  # Textual's drivers never clear the screen so (its inline one aside)
        found.append("the planted CSI (ESC[2J) reached the terminal")
    # The rest, without the driver's own sequences: what is written as text. (Cursor moves also
    # split a line where a toast overlaps others: the text reads whole again without them.)
    rest = OWN.sub("", stream)
    for match in re.finditer("\x1b", rest):
        found.append(f"ESC outside a CSI: {rest[max(0, match.start() - 20) : match.end() + 20]!r}")
    bad = sorted(
        {
            ch
            for ch in rest
            if (ord(ch) < 0x20 and ch != "\n")
            or 0x7F <= ord(ch) <= 0x9F
            or (unicodedata.category(ch) in ("Cf", "Zl", "Zp") and ch not in JOINERS)
        }
    )
    if bad:
        found.append(f"raw control, bidi or zero-width characters: {bad!r}")
    found += [f"{tag} never shown with its stand-in" for tag in must_show
              if f"{tag}{STAND_IN}" not in rest]  # fmt: skip
    found += [f"{tag} never shown in a box" for tag in cleaned if f"{tag}[2J]52;c;" not in rest]
    return found[:12]


def recording_app(engine: Engine, clock, user, **settings: object) -> SalesEngineApp:
    """The app, with a driver that keeps what it writes to its terminal in `app.written` (the
    headless driver draws nothing; Textual's Linux driver writes the same strings to the tty)."""
    ctx = app_context(engine, clock, user)
    ctx.settings = ctx.settings.model_copy(update=settings)
    app = SalesEngineApp(ctx)
    written: list[str] = []

    class RecordingDriver(HeadlessDriver):
        @property
        def is_headless(self) -> bool:
            return False  # so the app renders

        def write(self, data: str) -> None:
            written.append(data)

    app.driver_class = RecordingDriver
    app.written = written  # type: ignore[attr-defined]
    return app


def stream_of(app: SalesEngineApp) -> str:
    return "".join(app.written)  # type: ignore[attr-defined]


def written_text(app: SalesEngineApp) -> str:
    """The text written so far, without the driver's own sequences."""
    return OWN.sub("", stream_of(app))


async def test_no_planted_sequence_reaches_the_terminal_on_any_screen(
    engine: Engine, clock, desk: Desk
) -> None:
    plant(engine, desk)
    app = recording_app(engine, clock, desk.manager, live_updates=False)
    async with app.run_test(size=SIZE, headless=False, notifications=True) as pilot:

        async def keys(*pressed: str) -> None:
            for key in pressed:
                await pilot.press(key)
                await settle(pilot)

        async def visit(key: str, screen: str, *then: str) -> None:
            """`key` opens `screen` (by class name); then `then` (usually: close it)."""
            await keys(key)
            assert type(app.screen).__name__ == screen, f"{key}: {app.screen} is not a {screen}"
            await keys(*then)

        await settle(pilot)  # the board: names, titles, stages, the pipeline
        await keys("j")  # Hank, the second card of the first stage
        await visit("d", "DealScreen", "escape")  # contact, stage history, changes
        await visit("m", "StagePicker", "escape")
        await visit("A", "Picker", "escape")  # owners
        await visit("m", "StagePicker", "end")
        await visit("enter", "LostReasonScreen", "escape")  # cancelled: a toast
        await visit("enter", "CustomerScreen")  # profile, tasks, equipment, ticket, timeline
        app.screen.query_one("#customer-facts").scroll_end(animate=False)  # below the tasks
        await settle(pilot)
        await visit("enter", "TimelineEntryScreen", "escape")  # the notes
        await visit("e", "ContactForm", "escape")  # the boxes hold the data
        await visit("i", "InteractionForm", "escape", "escape")
        await keys("shift+right")  # a move: toast
        card = app.screen.focused.current  # type: ignore[union-attr]
        with Session(engine) as s:  # another manager moves it first
            board.move(s, Actor.of(desk.manager), card.id, expected_version=card.version,
                       to_stage_id=stages_of(s, evil("QQ11"))["Negotiation"].id, now=FIXED_NOW)  # fmt: skip
            s.commit()
        await keys("shift+right")  # "Not moved": toast
        assert "Not moved" in written_text(app)
        await visit("E", "PipelineSettingsScreen")
        await visit("enter", "StageForm", "escape")
        await visit("R", "TextPrompt", "escape")  # rename the pipeline
        await keys("d", "escape")  # delete a stage that holds estimates: a toast
        await keys("2")
        await visit("f", "Picker", "escape")  # filters: sources, owners
        await visit("c", "QuickCallScreen", "escape")
        await visit("n", "NewLeadForm")
        app.screen.query_one("#lead-lead_source").focus()
        await keys("Q", "Q", "escape")  # the lead-source suggestion
        await keys("3")
        await visit("l", "Picker", "down", "enter")  # the saved one: rows and text box
        await visit("n", "TextPrompt", "escape")  # rename
        await visit("x", "Picker", "escape")  # delete: confirm
        await visit("b", "BlastScreen")
        await visit("ctrl+t", "Picker", "end", "enter")  # a past blast, the preview
        await keys("escape", "4", "5", "a")  # dashboard; alerts, everyone's
        await visit("question_mark", "HelpScreen", "escape")
        await keys("ctrl+p")
        await pilot.press(*"Go to customer QQ01")
        await wait_until(pilot, lambda: "Customer: QQ01" in written_text(app), what="a palette hit")
        await keys("escape")
        must_show = [f"QQ{n:02d}" for n in (*range(1, 6), *range(7, 15), 17, 19, 20, 22, 23, 24)]
        # In editable boxes (contact form, segment text, a past blast's subject and body),
        # hidden characters are left out: what the box shows is what is saved.
        in_boxes = ("QQ02", "QQ03", "QQ17", "QQ18")
        assert not (found := problems(stream_of(app), must_show, in_boxes)), "\n".join(found)


async def test_an_upsell_toast_arrives_inert(engine: Engine, clock, desk: Desk) -> None:
    plant(engine, desk)
    app = recording_app(engine, clock, desk.manager, live_updates=True)
    async with app.run_test(size=SIZE, headless=False, notifications=True) as pilot:
        await wait_listening(pilot, app.alerts_listening, "alerts")
        with Session(engine) as s:
            s.add(Notification(user_id=desk.manager.id, kind="upsell", title=evil("QQ30"),
                               customer_id=desk.customers["Hank Hill"].id, created_at=FIXED_NOW))  # fmt: skip
            s.commit()
        await wait_until(pilot, lambda: "QQ30" in written_text(app), what="the toast")
        await pilot.pause()
        assert not (found := problems(stream_of(app), ["QQ30", "QQ01"])), "\n".join(found)


# --- the real program in a pseudo-terminal --------------------------------------------------


class Terminal:
    """`salesengine ARGS` in a pseudo-terminal of SIZE; everything it writes is kept."""

    def __init__(self, *argv: str, env: dict[str, str] | None = None) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
        attrs = termios.tcgetattr(slave)
        attrs[1] &= ~termios.OPOST  # bytes as written: no \n -> \r\n (the app sets raw mode anyway)
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
        environ = {
            **os.environ,
            "TERM": "xterm-256color",
            "COLUMNS": "",
            "LINES": "",
            **(env or {}),
        }
        exe = Path(sys.executable).with_name("salesengine")
        self.proc = subprocess.Popen([str(exe), *argv], stdin=slave, stdout=slave, stderr=slave,
                                     env=environ, start_new_session=True)  # fmt: skip
        os.close(slave)
        self.master = master
        self.data = b""

    def read(self) -> bool:
        """Whatever arrived (True while the program may still write)."""
        ready, _, _ = select.select([self.master], [], [], 0.05)
        if ready:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: the program closed the terminal
                return False
            self.data += chunk
            return bool(chunk)
        return self.proc.poll() is None

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")

    def wait_for(self, fragment: str, what: str) -> None:
        def seen() -> bool:
            self.read()
            return fragment in OWN.sub("", self.text)

        wait_for(seen, what)

    def send(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def finish(self) -> str:
        wait_for(lambda: not self.read() and self.proc.poll() is not None, "the program ending")
        while self.read():
            pass
        os.close(self.master)
        return self.text


def _url(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def test_the_real_app_in_a_terminal(db_url: URL, engine: Engine, desk: Desk) -> None:
    plant(engine, desk)
    term = Terminal("--database-url", _url(db_url), "--user", "dana",
                    env={"SALESENGINE_LIVE_UPDATES": "true"})  # fmt: skip
    try:
        term.wait_for(f"QQ01{STAND_IN}", "the board with Hank's card")
        for key, tag in (("2", "QQ04"), ("3", "QQ19"), ("4", "QQ09"), ("5", "QQ20")):
            term.send(key)
            term.wait_for(f"{tag}{STAND_IN}", f"section {key}")
        wait_for(lambda: listener_connected(engine, CHANNEL), "the alerts listener")
        with Session(engine) as s:  # the jobs runner flags an upsell for Dana: a toast
            s.add(Notification(user_id=desk.manager.id, kind="upsell", title=evil("QQ30"),
                               created_at=FIXED_NOW))  # fmt: skip
            s.commit()
        term.wait_for(f"QQ30{STAND_IN}", "the upsell toast")
        term.send("q")
        stream = term.finish()
    finally:
        if term.proc.poll() is None:
            term.proc.kill()
            term.proc.wait()
    assert not (
        found := problems(stream, ["QQ01", "QQ04", "QQ12", "QQ13", "QQ19", "QQ20", "QQ30"])
    ), "\n".join(found)


@pytest.mark.parametrize(
    ("argv", "must_show"),
    [
        (["segments", "list"], ["QQ14", "QQ03"]),
        (["segments", "count", "evilseg"], ["QQ03"]),
        (["segments", "show", "evilseg"], ["QQ03", "QQ01"]),
        (["users", "list"], ["QQ12", "QQ13"]),
    ],
)
def test_cli_printers_in_a_terminal(
    db_url: URL, engine: Engine, desk: Desk, argv: list[str], must_show: list[str]
) -> None:
    plant(engine, desk)
    term = Terminal("--database-url", _url(db_url), "--user", "dana", *argv)
    stream = term.finish()
    assert term.proc.wait() == 0, stream
    assert not (found := problems(stream, must_show)), "\n".join(found)


def test_ssh_key_list_in_a_terminal(db_url: URL, tmp_path: Path) -> None:
    comment = "QQ40\x1b[2J\x1b]0;pwned\x07\u202e\u200b!"
    keys = tmp_path / "authorized_keys"
    keys.write_text(f'command="/usr/bin/salesengine --user dana",restrict {key_line(7, comment)}\n')
    term = Terminal("--database-url", _url(db_url), "users", "ssh-key", "list",
                    "--authorized-keys", str(keys))  # fmt: skip
    stream = term.finish()
    assert term.proc.wait() == 0, stream
    assert not (found := problems(stream, ["QQ40"])), "\n".join(found)


def test_the_stand_ins() -> None:
    """The rule itself: every class above, and the zero-width and separator characters."""
    from salesengine_tui.ui.display import editable, visible

    hidden = "\u200b\u200c\u200d\u200e\u200f\u2028\u2029\u2060\u2064\ufeff\u061c\u00ad\x85"
    shown = visible(PAYLOAD + hidden)
    assert shown.startswith("␛[2J␛]52;c;aGk=␇␛]0;pwned␇␛]8;;http://evil.example/␛\\link")
    assert "\\u009b6n␍␈\\u202e\\u200b!" in shown
    assert not (found := problems(shown, [])), "\n".join(found)
    assert editable("Plano\x1b[2J\u202e\u200b") == "Plano[2J"
    assert editable("a\tb\nc\x9b", lines=True) == "a\tb\nc"
