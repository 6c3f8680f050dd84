"""Live updates between running copies of the app: PostgreSQL LISTEN, one connection per process.

A `Hub` keeps one autocommit psycopg connection (application_name `salesengine-live`) that
listens on every channel some part of the process has subscribed to, and hands each payload to
the subscribers of its channel. No Textual here (screens subscribe from a worker). The
connection opens with the first subscription and closes with the last; a lost connection is
retried with a short back-off, so a restarted server does not end live updates.

LISTEN holds session state, so the hub connects to a direct server URL (`listen_url`) even when
queries go through a pooler in transaction mode.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL

from ..base.settings import Settings
from .urls import describe, parse_database_url, redact

RETRY_SECONDS = 2.0
APPLICATION_NAME = "salesengine-live"
log = logging.getLogger(__name__)


def listen_url(settings: Settings, engine_url: URL) -> URL:
    """Where LISTEN connects: `listen_url` (a direct session when queries go through a pooler
    in transaction mode), else the database's own URL."""
    if settings.listen_url is not None:
        return parse_database_url(settings.listen_url.get_secret_value())
    return engine_url


def conninfo(url: URL) -> str:
    """A libpq URL for psycopg from a SQLAlchemy URL (driver name dropped)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass(eq=False)
class Subscription:
    """One subscriber's channels and callbacks; `close()` ends it."""

    hub: Hub
    channels: frozenset[str]
    on_payload: Callable[[str], None]
    on_connected: Callable[[], None] | None = None
    ready: bool = field(default=False, init=False)  # its channels are LISTENed on the connection

    def close(self) -> None:
        self.hub._remove(self)


class Hub:
    """One LISTEN connection for every subscriber in the process."""

    def __init__(self, url: URL, *, poll_seconds: float = 0.25) -> None:
        self._url = url
        self._poll = poll_seconds
        self._lock = threading.Lock()
        self._subs: list[Subscription] = []
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()  # cuts the retry wait short when the last one leaves
        self._failing = False  # connecting fails (said once, until it works again)

    def subscribe(
        self,
        channels: str | Sequence[str],
        on_payload: Callable[[str], None],
        *,
        on_connected: Callable[[], None] | None = None,
    ) -> Subscription:
        """Call `on_payload` (on the hub's thread) for every notification on `channels`;
        `on_connected` once they are LISTENed (again after a reconnect)."""
        names = frozenset([channels] if isinstance(channels, str) else channels)
        sub = Subscription(self, names, on_payload, on_connected)
        with self._lock:
            self._subs.append(sub)
            self._wake.clear()  # someone is listening again: a retry waits its full time
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="live-hub", daemon=True)
                self._thread.start()
        return sub

    def listen(
        self,
        channels: str | Sequence[str],
        on_payload: Callable[[str], None],
        stop: threading.Event,
        *,
        on_connected: Callable[[], None] | None = None,
    ) -> None:
        """Subscribe until `stop` is set (blocks: run it in a worker thread)."""
        sub = self.subscribe(channels, on_payload, on_connected=on_connected)
        try:
            stop.wait()
        finally:
            sub.close()

    @property
    def connected(self) -> bool:
        with self._lock:
            return self._thread is not None

    def _remove(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)
            if not self._subs:
                self._wake.set()

    def _snapshot(self) -> list[Subscription] | None:
        """The subscribers now; None (and the thread marked gone) when there are none left."""
        with self._lock:
            if not self._subs:
                self._thread = None
                return None
            return list(self._subs)

    def _run(self) -> None:
        try:
            while True:
                try:
                    if self._serve():
                        return
                except psycopg.Error as exc:  # the server went away, or refused us: again soon
                    if not self._failing:  # once per streak, without the URL's password
                        log.warning(
                            "live updates: cannot listen at %s (%s); retrying every %g s",
                            describe(self._url),
                            redact(str(exc).strip().splitlines()[0] if str(exc) else "", self._url),
                            RETRY_SECONDS,
                        )
                    self._failing = True
                    with self._lock:
                        for sub in self._subs:
                            sub.ready = False
                self._wake.wait(RETRY_SECONDS)
                if self._snapshot() is None:
                    return
        finally:
            with self._lock:  # whatever ended it, the next subscriber starts a new thread
                if self._thread is threading.current_thread():
                    self._thread = None

    def _serve(self) -> bool:
        """Listen until nobody is subscribed (True) or the connection fails (raises)."""
        with psycopg.connect(
            conninfo(self._url), autocommit=True, application_name=APPLICATION_NAME
        ) as conn:
            self._failing = False
            listening: set[str] = set()
            while True:
                subs = self._snapshot()
                if subs is None:
                    return True
                wanted = set().union(*(sub.channels for sub in subs))
                if wanted != listening:
                    # One statement for the whole set, in one implicit transaction (no moment
                    # of listening to nothing), and pg_stat_activity shows what it hears.
                    listens = [
                        sql.SQL("LISTEN {}").format(sql.Identifier(n)) for n in sorted(wanted)
                    ]
                    conn.execute(sql.SQL("; ").join([sql.SQL("UNLISTEN *"), *listens]))
                    listening = wanted
                for sub in subs:
                    if not sub.ready:
                        sub.ready = True
                        _call(sub.on_connected)
                for notify in conn.notifies(timeout=self._poll):
                    for sub in subs:
                        if notify.channel in sub.channels:
                            _call(sub.on_payload, notify.payload)


def _call(callback: Callable[..., None] | None, *args: str) -> None:
    """A subscriber's callback; one that raises is logged and the others still hear."""
    if callback is None:
        return
    try:
        callback(*args)
    except Exception:
        log.exception("a live-update subscriber failed")


def listen(
    url: URL,
    channel: str | Sequence[str],
    on_payload: Callable[[str], None],
    stop: threading.Event,
    *,
    on_connected: Callable[[], None] | None = None,
    poll_seconds: float = 0.25,
) -> None:
    """A hub of its own for one subscriber, until `stop` is set (blocks)."""
    Hub(url, poll_seconds=poll_seconds).listen(channel, on_payload, stop, on_connected=on_connected)
