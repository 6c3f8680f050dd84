"""The app's connection budget (issue 18), measured on the real server: an app open on any
screen, live updates on, holds at most 2 server connections once its loads are done (1 for
queries, 1 listener for every channel) and at most 4 at its busiest (3 query connections while
a screen loads parts side by side, and the listener). The dashboard coalesces a burst of
changes heard into at most two reloads, and an app that exits leaves no connection behind.

Counted in `pg_stat_activity` for the test's database by application name, sampled from a
thread every few milliseconds while the screen loads and reloads; the app's pool also reports
every connection it opens and closes (a connection opened and closed between two samples is
still counted)."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import psycopg
import pytest
from factories import FIXED_NOW, Desk
from pilot_helpers import wait_listening, wait_until
from pydantic import SecretStr
from sqlalchemy import Engine, event, select, text
from sqlalchemy.engine import URL
from sqlmodel import Session
from textual.message import Message
from textual.pilot import Pilot

from salesengine_tui.access.users import Actor
from salesengine_tui.app import SalesEngineApp
from salesengine_tui.base.clock import FixedClock
from salesengine_tui.base.settings import load_settings
from salesengine_tui.db import live
from salesengine_tui.db.connect import open_engine
from salesengine_tui.db.engine import make_engine
from salesengine_tui.db.models import Estimate
from salesengine_tui.marketing import segments
from salesengine_tui.screens.blast import BlastScreen
from salesengine_tui.screens.customer import CustomerScreen
from salesengine_tui.screens.deal import DealScreen
from salesengine_tui.screens.messages import DashboardChanged, DashboardLoaded
from salesengine_tui.screens.search import open_search
from salesengine_tui.usecases import AppContext
from salesengine_tui.usecases.dashboard import LIVE_CHANNELS

SIZE = (120, 40)
QUERIES = "salesengine"  # the app's query connections
LISTENER = "salesengine-live"  # the one listener (db/live.py)
IDLE_MOST = 2
BUSY_MOST = 4
POOL_MOST = 3  # kept + overflow: the busiest the queries alone may be
SAMPLE_SECONDS = 0.003
# Workers that run as long as the screen: the listeners (the hub holds their connection).
LISTENING_GROUPS = {"alerts-live", "board-live", "dashboard-live"}


# --- measuring ----------------------------------------------------------------------------


class ServerSampler:
    """The app's connections in `pg_stat_activity`, sampled from a thread; keeps the peak."""

    def __init__(self, url: URL) -> None:
        self._conn = psycopg.connect(
            live.conninfo(url), autocommit=True, application_name="budget-probe"
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="budget-probe", daemon=True)
        self.peak: Counter[str] = Counter()  # the most seen at once, by application name
        self.peak_total = 0

    def now(self) -> Counter[str]:
        rows = self._conn.execute(
            "SELECT application_name, count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = ANY(%s) "
            "GROUP BY application_name",
            [[QUERIES, LISTENER]],
        ).fetchall()
        return Counter({name: count for name, count in rows})

    def reset(self) -> None:
        self.peak, self.peak_total = Counter(), 0

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            seen = self.now()
            self.peak |= seen  # per name, the larger
            self.peak_total = max(self.peak_total, seen.total())

    def __enter__(self) -> ServerSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self._conn.close()


@dataclass
class PoolWatch:
    """What the app's pool itself reports: connections open (kept and overflow) and lent."""

    open: int = 0
    lent: int = 0
    peak_open: int = 0
    peak_lent: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def attach(self, engine: Engine) -> None:
        self.open = self.peak_open = engine.pool.checkedin()  # what opening the engine kept
        event.listen(engine.pool, "connect", lambda *_: self._add("open", 1))
        event.listen(engine.pool, "close", lambda *_: self._add("open", -1))
        event.listen(engine.pool, "checkout", lambda *_: self._add("lent", 1))
        event.listen(engine.pool, "checkin", lambda *_: self._add("lent", -1))

    def _add(self, what: str, delta: int) -> None:
        with self._lock:
            setattr(self, what, getattr(self, what) + delta)
            self.peak_open = max(self.peak_open, self.open)
            self.peak_lent = max(self.peak_lent, self.lent)

    def reset(self) -> None:
        with self._lock:
            self.peak_open, self.peak_lent = self.open, self.lent


@dataclass
class Measured:
    app: SalesEngineApp
    engine: Engine  # the app's, as `salesengine` opens it (its settings' pool)
    pool: PoolWatch
    server: ServerSampler


@contextmanager
def measured_app(db_url: URL, desk: Desk, section: str) -> Iterator[Measured]:
    """The app as `salesengine` runs it (live updates on), acting as the manager, opened on
    `section`, its connections watched; the engine disposed at the end as the command does."""
    settings = load_settings().model_copy(
        update={
            "database_url": SecretStr(db_url.render_as_string(hide_password=False)),
            "live_updates": True,
        }
    )
    engine = open_engine(settings)
    pool = PoolWatch()
    pool.attach(engine)
    ctx = AppContext(engine, FixedClock(FIXED_NOW), settings, Actor.of(desk.manager))
    try:
        with ServerSampler(db_url) as server:
            yield Measured(SalesEngineApp(ctx, section=section), engine, pool, server)
    finally:
        engine.dispose()


def app_busy(app: SalesEngineApp) -> bool:
    """A load, a count or a search still runs (the listeners always do: not counted)."""
    return any(not w.is_finished and w.group not in LISTENING_GROUPS for w in app.workers)


async def settled(pilot: Pilot[None], pool: PoolWatch) -> None:
    """Until the screen's loads are done and every query connection is back in the pool,
    twice in a row (a load's message may start the next fetch)."""
    for _ in range(2):
        await wait_until(pilot, lambda: not app_busy(pilot.app) and pool.lent == 0, what="idle")
        await pilot.pause(0.05)


# A closed connection's server process ends a moment after the pool lets it go.
GONE_SECONDS = 3.0


def server_settles(server: ServerSampler, most: int) -> Counter[str]:
    """The app's connections on the server once at most `most` are left (or, past
    GONE_SECONDS, however many are: an app over budget never gets there)."""
    deadline = time.monotonic() + GONE_SECONDS
    seen = server.now()
    while seen.total() > most and time.monotonic() < deadline:
        time.sleep(0.02)
        seen = server.now()
    return seen


@pytest.fixture
def peer(db_url: URL, engine: Engine) -> Iterator[Engine]:
    """The test's own connections, named apart from the app's; the fixtures' engine (named
    like the app's) lets its kept connection go."""
    engine.dispose()
    other = make_engine(db_url, application_name="budget-peer")
    yield other
    other.dispose()


def first_estimate(peer: Engine) -> uuid.UUID:
    with Session(peer) as s:
        return s.exec(select(Estimate.id).order_by(Estimate.number)).first()


# --- the screens --------------------------------------------------------------------------

Opener = Callable[[Pilot[None], Engine, Desk], Awaitable[None]]
Again = Callable[[Pilot[None]], Awaitable[None]]


async def on_section(pilot: Pilot[None], peer: Engine, desk: Desk) -> None:
    """A section: the app opened on it (see `SECTIONS`)."""


async def reload_section(pilot: Pilot[None]) -> None:
    pilot.app.screen.reload()


async def on_customer(pilot: Pilot[None], peer: Engine, desk: Desk) -> None:
    app = pilot.app
    app.push_screen(CustomerScreen(app.ctx, desk.customers["Hank Hill"].id))


async def on_deal(pilot: Pilot[None], peer: Engine, desk: Desk) -> None:
    app = pilot.app
    app.push_screen(DealScreen(app.ctx, first_estimate(peer)))


async def reload_detail(pilot: Pilot[None]) -> None:
    pilot.app.screen.action_reload()


async def on_blast(pilot: Pilot[None], peer: Engine, desk: Desk) -> None:
    app = pilot.app
    app.push_screen(BlastScreen(app.ctx, segments.parse("status = 'lead'")))


async def recheck_blast(pilot: Pilot[None]) -> None:
    pilot.app.screen.action_check()


async def on_search(pilot: Pilot[None], peer: Engine, desk: Desk) -> None:
    open_search(pilot.app, "Hill")


async def type_search(pilot: Pilot[None]) -> None:
    await pilot.press("backspace")  # "Hil": a new search after the typing pause


SCREENS: dict[str, tuple[str, Opener, Again]] = {
    # name: (the section the app opens on, what opens the screen, what loads it again)
    "pipeline": ("pipeline", on_section, reload_section),
    "leads": ("leads", on_section, reload_section),
    "segments": ("segments", on_section, reload_section),
    "dashboard": ("dashboard", on_section, reload_section),
    "notifications": ("notifications", on_section, reload_section),
    "tasks": ("tasks", on_section, reload_section),
    "customer": ("pipeline", on_customer, reload_detail),
    "deal": ("pipeline", on_deal, reload_detail),
    "blast": ("segments", on_blast, recheck_blast),
    "search": ("pipeline", on_search, type_search),
}


async def listeners_up(pilot: Pilot[None]) -> None:
    """The app's alerts and the section's own live updates are listening."""
    app = pilot.app
    assert isinstance(app, SalesEngineApp)
    await wait_listening(pilot, app.alerts_listening, "alerts'")
    for screen in app.screen_stack:
        ready = getattr(screen, "listening", None)
        if isinstance(ready, threading.Event):
            await wait_listening(pilot, ready, type(screen).__name__)


@pytest.mark.parametrize("name", list(SCREENS))
async def test_each_screen_keeps_the_budget(
    name: str, db_url: URL, desk: Desk, peer: Engine
) -> None:
    section, opener, again = SCREENS[name]
    with measured_app(db_url, desk, section) as m:
        pool, server = m.pool, m.server
        async with m.app.run_test(size=SIZE) as pilot:
            await listeners_up(pilot)
            await opener(pilot, peer, desk)
            await listeners_up(pilot)
            await settled(pilot, pool)
            opening = (server.peak_total, dict(server.peak), pool.peak_open, pool.peak_lent)

            idle = server_settles(server, IDLE_MOST)
            assert idle[LISTENER] == 1, f"{name}: one listener for every channel"
            assert idle.total() <= IDLE_MOST, f"{name} idle: {dict(idle)}"

            server.reset()
            pool.reset()
            await again(pilot)
            await pilot.pause(0.05)
            await settled(pilot, pool)
            busiest = max(opening[0], server.peak_total)
            print(
                f"budget {name}: idle {dict(idle)}; opening peak {opening[0]} {opening[1]} "
                f"(pool open {opening[2]}, lent {opening[3]}); reload peak "
                f"{server.peak_total} {dict(server.peak)} (pool open {pool.peak_open}, "
                f"lent {pool.peak_lent})"
            )
            assert busiest <= BUSY_MOST, f"{name} busiest: {opening}, then {dict(server.peak)}"
            assert max(opening[2], pool.peak_open) <= POOL_MOST
            assert server.peak[LISTENER] <= 1 and opening[1].get(LISTENER, 0) <= 1
            again_idle = server_settles(server, IDLE_MOST)
            assert again_idle.total() <= IDLE_MOST, f"{name}: idle again after the reload"


async def test_the_dashboard_runs_its_parts_within_the_pool(
    db_url: URL, desk: Desk, peer: Engine
) -> None:
    """The dashboard is the screen that peaks: its parts load side by side on every
    connection the pool may lend, and never more (a part waiting on the pool would wait
    behind the others)."""
    with measured_app(db_url, desk, "dashboard") as m:
        app, pool, server = m.app, m.pool, m.server
        async with app.run_test(size=SIZE) as pilot:
            await listeners_up(pilot)
            await settled(pilot, pool)
            pool.reset()
            server.reset()
            app.screen.reload()
            await pilot.pause(0.05)
            await settled(pilot, pool)
            # Side by side (how many overlap depends on timing), never past the pool.
            assert 2 <= pool.peak_lent <= POOL_MOST, pool.peak_lent
            assert server.peak_total <= BUSY_MOST


# --- the dashboard does not stampede ------------------------------------------------------

BURST = 20
BURST_GAP_SECONDS = 0.03


def notify_burst(peer: Engine) -> None:
    """BURST changes on the dashboard's channels, each its own transaction (the server folds
    equal notifications of one transaction into one)."""
    for i in range(BURST):
        with peer.begin() as conn:
            conn.execute(
                text("SELECT pg_notify(:channel, :payload)"),
                {"channel": LIVE_CHANNELS[i % len(LIVE_CHANNELS)], "payload": f"burst {i}"},
            )
        time.sleep(BURST_GAP_SECONDS)  # a steady trickle, as a busy floor sends


async def test_a_burst_of_changes_reloads_the_dashboard_at_most_twice(
    db_url: URL, desk: Desk, peer: Engine
) -> None:
    heard: list[float] = []
    loaded: list[float] = []

    def hook(message: Message) -> None:
        if isinstance(message, DashboardChanged):
            heard.append(time.monotonic())
        elif isinstance(message, DashboardLoaded):
            loaded.append(time.monotonic())

    with measured_app(db_url, desk, "dashboard") as m:
        app, pool = m.app, m.pool
        async with app.run_test(size=SIZE, message_hook=hook) as pilot:
            dashboard = app.screen
            await listeners_up(pilot)
            await settled(pilot, pool)
            await wait_until(pilot, lambda: dashboard.live_idle, what="the first load shown")
            loaded.clear()

            sender = threading.Thread(target=notify_burst, args=(peer,), daemon=True)
            sender.start()
            await wait_until(pilot, lambda: len(heard) == BURST, what="every change heard")
            sender.join(5)
            await wait_until(
                pilot, lambda: dashboard.live_idle, what="the dashboard caught up", seconds=15
            )
            assert 1 <= len(loaded) <= 2, f"{len(loaded)} reloads for {BURST} changes"
            assert loaded[-1] > heard[-1], "the last change heard is shown"


# --- leaving ------------------------------------------------------------------------------


async def test_an_app_that_exits_leaves_no_connection(
    db_url: URL, desk: Desk, peer: Engine
) -> None:
    with measured_app(db_url, desk, "dashboard") as m:
        app, pool, server = m.app, m.pool, m.server
        async with app.run_test(size=SIZE) as pilot:
            await listeners_up(pilot)
            await pilot.press("1")  # the board too: its listener shares the connection
            await listeners_up(pilot)
            await settled(pilot, pool)
            assert server.now()[LISTENER] == 1
        # The app has exited: its listener goes with it, before the engine is disposed.
        left = server_settles(server, 1)
        assert left[LISTENER] == 0, "the listener closed when the app exited"
        assert left[QUERIES] <= 1  # the pool's kept one, until the command disposes it
        m.engine.dispose()
        assert server_settles(server, 0).total() == 0
