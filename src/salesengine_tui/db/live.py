"""Live updates between running copies of the app: PostgreSQL LISTEN on one or more channels.

A dedicated autocommit psycopg connection waits for notifications in a thread and hands each
payload to a callback; no Textual here (the screen runs `listen` in a worker). Connection
loss is retried with a short back-off, so a restarted server does not end live updates.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL

RETRY_SECONDS = 2.0


def conninfo(url: URL) -> str:
    """A libpq URL for psycopg from a SQLAlchemy URL (driver name dropped)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def listen(
    url: URL,
    channel: str | Sequence[str],
    on_payload: Callable[[str], None],
    stop: threading.Event,
    *,
    on_connected: Callable[[], None] | None = None,
    poll_seconds: float = 0.25,
) -> None:
    """Call `on_payload` for every notification on `channel` (or on any of several channels,
    one connection for all) until `stop` is set."""
    channels = [channel] if isinstance(channel, str) else list(channel)
    while not stop.is_set():
        try:
            with psycopg.connect(
                conninfo(url), autocommit=True, application_name="salesengine-live"
            ) as conn:
                for name in channels:
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(name)))
                if on_connected is not None:
                    on_connected()
                while not stop.is_set():
                    for notify in conn.notifies(timeout=poll_seconds):
                        on_payload(notify.payload)
        except psycopg.OperationalError:
            stop.wait(RETRY_SECONDS)
