"""A process in a real terminal (a pty), and just enough of a terminal to read its screen.

`run_in_pty` starts a command on a new pseudo-terminal of a given size, reads what it writes
into `Screen` (cursor moves, erases, text: what Textual and Rich emit), and notes the first
moment the screen passes a check: the first full paint, seen the way a user would see it.
"""

from __future__ import annotations

import codecs
import fcntl
import os
import pty
import re
import select
import signal
import struct
import termios
import time
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

# CSI: ESC [ parameters intermediates final; OSC: ESC ] ... (BEL or ESC \); others: ESC + one.
CSI = re.compile(r"\x1b\[([0-?]*)([ -/]*)([@-~])")
OSC = re.compile(r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")
INCOMPLETE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b]*|\]?[^\x07]*\x1b)?\Z")


def _params(text: str, default: int) -> list[int]:
    return [int(p) if p.isdigit() else default for p in text.lstrip("?").split(";")]


class Screen:
    """A grid of cells written by cursor-addressed output (no scrolling region, no wrap)."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.cells = [[" "] * width for _ in range(height)]
        self.x = self.y = 0
        self._pending = ""
        self._decode = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def feed(self, data: bytes) -> None:
        text = self._pending + self._decode.decode(data)
        self._pending = ""
        i = 0
        while i < len(text):
            ch = text[i]
            if ch == "\x1b":
                if m := CSI.match(text, i):
                    self._csi(m.group(1), m.group(3))
                    i = m.end()
                elif m := OSC.match(text, i):
                    i = m.end()
                elif INCOMPLETE.match(text, i):
                    self._pending = text[i:]  # the rest arrives with the next read
                    return
                else:
                    i += 2  # a two-character escape (keypad mode, charset, ...)
                continue
            if ch == "\r":
                self.x = 0
            elif ch == "\n":
                self.y = min(self.y + 1, self.height - 1)
            elif ch == "\b":
                self.x = max(self.x - 1, 0)
            elif ch >= " ":
                self._put(ch)
            i += 1

    def _put(self, ch: str) -> None:
        if unicodedata.combining(ch):
            return
        wide = unicodedata.east_asian_width(ch) in ("W", "F")
        if self.x < self.width:
            self.cells[self.y][self.x] = ch
            if wide and self.x + 1 < self.width:
                self.cells[self.y][self.x + 1] = ""
        self.x += 2 if wide else 1

    def _csi(self, params: str, final: str) -> None:
        if params.startswith(("?", ">", "=")) and final not in "HJK":
            return  # modes and queries (mouse, alternate screen, cursor, synchronized output)
        n = _params(params, 1)[0] or 1
        if final == "H" or final == "f":
            row, col = ([*_params(params, 1), 1])[:2]
            self.y, self.x = min(max(row, 1), self.height) - 1, min(max(col, 1), self.width) - 1
        elif final == "A":
            self.y = max(self.y - n, 0)
        elif final == "B":
            self.y = min(self.y + n, self.height - 1)
        elif final == "C":
            self.x = min(self.x + n, self.width - 1)
        elif final == "D":
            self.x = max(self.x - n, 0)
        elif final == "G":
            self.x = min(n, self.width) - 1
        elif final == "J":
            mode = _params(params, 0)[0]
            rows = range(self.height) if mode >= 2 else range(self.y + 1, self.height)
            for row in rows:
                self.cells[row] = [" "] * self.width
            if mode == 0:
                self.cells[self.y][self.x :] = [" "] * (self.width - self.x)
        elif final == "K":
            mode = _params(params, 0)[0]
            start, end = {0: (self.x, self.width), 1: (0, self.x + 1)}.get(mode, (0, self.width))
            self.cells[self.y][start:end] = [" "] * (end - start)

    def lines(self) -> list[str]:
        return ["".join(row) for row in self.cells]

    def text(self) -> str:
        return "\n".join(self.lines())


@dataclass(frozen=True)
class PtyRun:
    painted: float | None  # seconds from start to the first screen that passed the check
    cpu: float | None  # the process's CPU seconds (user + system, all threads) by then
    exited: float | None  # seconds from start to the process's exit (None: killed)
    screen: str  # the screen when it passed (or at the time-out)
    output_tail: bytes  # the last bytes written (for a failure's message)


def cpu_seconds(pid: int) -> float | None:
    """CPU time used so far by a running process (Linux /proc; None elsewhere)."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()  # noqa: SIM115
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def run_in_pty(
    argv: Sequence[str],
    env: Mapping[str, str],
    ready: Callable[[Screen], bool],
    *,
    size: tuple[int, int] = (120, 40),
    quit_keys: bytes = b"q",
    timeout: float = 60.0,
) -> PtyRun:
    """Start `argv` on a new pty of `size` (columns, rows); time from just before the fork to
    the first screen that passes `ready`; then type `quit_keys` and time the exit."""
    width, height = size
    screen = Screen(width, height)
    started = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # the child: the pty is its controlling terminal and stdin/out/err
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
        os.execve(argv[0], list(argv), dict(env))
    painted: float | None = None
    cpu: float | None = None
    exited: float | None = None
    tail = b""
    deadline = started + timeout
    quit_sent = 0.0
    try:
        while time.perf_counter() < deadline:
            readable, _, _ = select.select([fd], [], [], 0.05)
            if readable:
                try:
                    data = os.read(fd, 65536)
                except OSError:  # EIO: the child closed the terminal (it exited)
                    data = b""
                if not data:
                    break
                tail = (tail + data)[-4000:]
                screen.feed(data)
                if painted is None and ready(screen):
                    painted = time.perf_counter() - started
                    cpu = cpu_seconds(pid)
                    shown = screen.text()
                    os.write(fd, quit_keys)
                    quit_sent = time.perf_counter()
            elif painted is not None and time.perf_counter() - quit_sent > 1.0:
                os.write(fd, quit_keys)  # a key typed during start-up can be lost: again
                quit_sent = time.perf_counter()
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                exited = time.perf_counter() - started
                pid = 0
                break
    finally:
        # The terminal closed (or the time ran out): give the process a moment to exit.
        while pid and time.perf_counter() < deadline + 5.0:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                exited, pid = time.perf_counter() - started, 0
            else:
                time.sleep(0.01)
        if pid:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)
    return PtyRun(painted, cpu, exited, shown if painted is not None else screen.text(), tail)
