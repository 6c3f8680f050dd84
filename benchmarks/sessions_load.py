"""The moving parts of the sessions benchmark: the session processes (`session_probe.py`), a
sampler of the server's connections, PgBouncer's pools and the server's CPU, and the driver
that moves cards and logs calls at a steady rate through the pooler.

Kept apart from `bench_sessions.py` (the phases and the figures) so each can be read alone.
"""

from __future__ import annotations

import contextlib
import json
import random
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from outreach_load import children_of, cpu_seconds, parent_of

PROBE = Path(__file__).with_name("session_probe.py")
START_AT_ONCE = 3  # sessions starting side by side (two cores: not fifty at once)


@dataclass
class Session:
    number: int
    section: str
    login: str
    process: subprocess.Popen[str]
    ready: threading.Event = field(default_factory=threading.Event)
    # estimate id -> epoch seconds when this board first heard / showed the change
    heard: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    shown: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.process.pid

    def read(self) -> None:
        """The probe's stdout, line by line, until it exits (a thread per session)."""
        assert self.process.stdout is not None
        for line in self.process.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                self.errors.append(line.strip())
                continue
            if event["e"] == "ready":
                self.ready.set()
            elif event["e"] in ("shown", "heard"):
                getattr(self, event["e"])[event["id"]].append(event["t"])

    def rss_mib(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0


class Sessions:
    """The running session processes; `close()` ends every one (stdin closed, then killed)."""

    def __init__(self, pooled: str, direct: str, folder: Path) -> None:
        self.pooled, self.direct, self.folder = pooled, direct, folder
        self.running: list[Session] = []

    def start(self, count: int, logins: list[str], timeout: float = 600) -> float:
        """Start `count` more, at most START_AT_ONCE loading at a time; 3 in 4 on the board,
        1 in 4 on the dashboard; returns the seconds it took until all were ready."""
        began = time.monotonic()
        deadline = began + timeout
        for _ in range(count):
            while sum(not s.ready.is_set() for s in self.running) >= START_AT_ONCE:
                self._check(deadline)
                time.sleep(0.05)
            self._spawn(logins)
        while not all(s.ready.is_set() for s in self.running):
            self._check(deadline)
            time.sleep(0.05)
        return time.monotonic() - began

    def _spawn(self, logins: list[str]) -> None:
        n = len(self.running)
        section = "dashboard" if n % 4 == 3 else "pipeline"
        login = logins[n % len(logins)]
        log = (self.folder / f"session-{n}.log").open("w")
        process = subprocess.Popen(
            [sys.executable, str(PROBE), "--database-url", self.pooled,
             "--listen-url", self.direct, "--login", login, "--section", section],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True,
        )  # fmt: skip
        log.close()
        session = Session(n, section, login, process)
        threading.Thread(target=session.read, daemon=True, name=f"session-{n}").start()
        self.running.append(session)

    def _check(self, deadline: float) -> None:
        for s in self.running:
            if s.process.poll() is not None:
                tail = (self.folder / f"session-{s.number}.log").read_text()[-3000:]
                raise RuntimeError(f"session {s.number} ({s.section}) exited:\n{tail}")
        if time.monotonic() > deadline:
            raise TimeoutError("the sessions did not all get ready in time")

    @property
    def boards(self) -> list[Session]:
        return [s for s in self.running if s.section == "pipeline"]

    @property
    def pids(self) -> list[int]:
        return [s.pid for s in self.running]

    def close(self) -> None:
        for s in self.running:
            if s.process.poll() is None and s.process.stdin is not None:
                with contextlib.suppress(OSError):  # it may have gone meanwhile
                    s.process.stdin.close()
        deadline = time.monotonic() + 20
        for s in self.running:
            try:
                s.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                s.process.kill()
                s.process.wait()


@dataclass
class Sample:
    """What the sampler saw over a phase: peaks, and the last CPU reading of every backend."""

    peak_total: int = 0
    peak_by_kind: Counter[str] = field(default_factory=Counter)
    peak_pools: dict[str, int] = field(default_factory=dict)
    last: dict[str, object] = field(default_factory=dict)  # the last full reading
    cpu: dict[int, float] = field(default_factory=dict)  # backend pid -> CPU seconds, last seen
    samples: int = 0


class Sampler:
    """Every `every` seconds: the server's client backends by kind (through PgBouncer, the
    apps' listeners, anything else), PgBouncer's pool for the database, and the CPU of every
    process of the server (a backend that ends during the phase keeps its last reading)."""

    def __init__(self, direct: str, admin: psycopg.Connection, database: str, every: float = 0.5):
        self.conn = psycopg.connect(direct, autocommit=True, application_name="bench-sampler")
        self.admin, self.database, self.every = admin, database, every
        backend = self.conn.execute("SELECT pg_backend_pid()").fetchone()
        assert backend is not None
        self.postmaster = parent_of(backend[0])  # the server: its backends are its children
        self.sample = Sample()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def reading(self) -> dict[str, object]:
        servers = {row[-1] for row in self._show("SERVERS", "remote_pid")}
        kinds: Counter[str] = Counter()
        for pid, name in self.conn.execute(
            "SELECT pid, coalesce(application_name, '') FROM pg_stat_activity "
            "WHERE backend_type = 'client backend'"
        ):
            if pid in servers:
                kinds["through PgBouncer"] += 1
            elif name == "salesengine-live":
                kinds["app listeners (direct)"] += 1
            else:
                kinds[f"other direct ({name or '-'})"] += 1
        pools = next(
            (
                row
                for row in self._show("POOLS", None, dicts=True)
                if row["database"] == self.database
            ),
            {},
        )
        return {"total": sum(kinds.values()), "kinds": dict(kinds), "pool": pools}

    def _show(self, what: str, column: str | None, *, dicts: bool = False) -> list:
        cur = self.admin.execute(f"SHOW {what}")
        names = [d.name for d in cur.description or []]
        rows = cur.fetchall()
        if dicts:
            return [dict(zip(names, row, strict=True)) for row in rows]
        index = names.index(column)
        return [(row[index],) for row in rows]

    def start(self) -> None:
        self.sample = Sample()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True, name="sampler")
        self._thread.start()

    def stop(self) -> Sample:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._once()
        return self.sample

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self._once()

    def _once(self) -> None:
        now = self.reading()
        s = self.sample
        s.samples += 1
        s.last = now
        s.peak_total = max(s.peak_total, int(now["total"]))  # type: ignore[call-overload]
        for kind, count in now["kinds"].items():  # type: ignore[attr-defined]
            s.peak_by_kind[kind] = max(s.peak_by_kind[kind], count)
        for key in ("cl_active", "cl_waiting", "sv_active", "sv_idle", "sv_used", "maxwait"):
            value = now["pool"].get(key)  # type: ignore[attr-defined]
            if isinstance(value, int):
                s.peak_pools[key] = max(s.peak_pools.get(key, 0), value)
        s.cpu.update(self.server_cpu())

    def server_cpu(self) -> dict[int, float]:
        return cpu_seconds(children_of(self.postmaster))

    def close(self) -> None:
        self.conn.close()


@dataclass
class Driven:
    """What the driver did in a phase: each move's estimate and commit time, the calls."""

    # (estimate id, epoch when the move was sent, epoch right after it committed): a board may
    # hear the NOTIFY before the driver's call has returned.
    moves: list[tuple[str, float, float]] = field(default_factory=list)
    calls: int = 0
    late: float = 0.0  # the most it fell behind its schedule, seconds
    failures: list[str] = field(default_factory=list)


def drive(desk, seconds: float, *, moves_per_s: float = 2.0, calls_per_s: float = 1.0) -> Driven:
    """Move cards between the open stages of the first pipeline and log calls on random
    customers, at a steady rate, as a manager through the pooler (the use cases: one
    transaction each, the NOTIFY sent at commit). A move's time is taken right after commit."""
    from salesengine_tui.deals.cards import BoardQuery

    rng = random.Random(18)
    read = desk.deals.load_board(None)
    open_stages = [c.id for c in read.columns if not (c.is_won or c.is_lost)]
    cards = [
        card
        for stage in open_stages
        for card in desk.deals.page(
            stage, BoardQuery(pipeline_id=read.query.pipeline_id), limit=200
        )
    ]
    customers: list[uuid.UUID] = [card.customer_id for card in cards]
    events = sorted(
        [(k / moves_per_s, "move") for k in range(int(seconds * moves_per_s))]
        + [(k / calls_per_s + 0.25, "call") for k in range(int(seconds * calls_per_s))]
    )
    done = Driven()
    began = time.monotonic()
    for at, kind in events:
        wait = began + at - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        else:
            done.late = max(done.late, -wait)
        try:
            if kind == "move":
                i = rng.randrange(len(cards))
                card = cards[i]
                to = rng.choice([s for s in open_stages if s != card.stage_id])
                sent = time.time()
                moved = desk.deals.move(card, to)
                done.moves.append((str(card.id), sent, time.time()))
                cards[i] = moved.card
            else:
                desk.leads.log_call(rng.choice(customers), outcome="voicemail", notes=None)
                done.calls += 1
        except Exception as exc:  # counted and shown; the phase goes on
            done.failures.append(f"{kind}: {exc!r}"[:300])
    return done
