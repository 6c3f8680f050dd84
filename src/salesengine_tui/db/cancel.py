"""Cancelling a running query from another thread: a newer edit makes the older count moot,
and the server should stop working on it, not just the screen stop waiting for it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

import psycopg
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session


class QueryCanceller:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: psycopg.Connection | None = None

    @contextmanager
    def session(
        self,
        engine: Engine,
        *,
        timeout_ms: int = 15_000,
        prepare: Callable[[Session], None] | None = None,
    ) -> Iterator[Session]:
        """A read session whose queries `cancel()` can stop; a statement_timeout bounds them.
        `prepare` is given the session before it begins (the role it takes)."""
        with Session(engine) as session:
            if prepare is not None:
                prepare(session)
            raw = session.connection().connection.dbapi_connection
            session.execute(
                text("SELECT set_config('statement_timeout', :t, true)"), {"t": str(timeout_ms)}
            )
            with self._lock:
                self._running = raw  # type: ignore[assignment]
            try:
                yield session
            finally:
                with self._lock:
                    if self._running is raw:
                        self._running = None

    def cancel(self) -> None:
        with self._lock:
            running = self._running
            self._running = None
        if running is not None:
            # It may have finished or its connection gone away: nothing left to stop then.
            with suppress(psycopg.Error):
                running.cancel_safe(timeout=2.0)


def was_cancelled(error: BaseException) -> bool:
    """A query stopped by `cancel()` (not a statement timeout, which the user should hear of)."""
    orig = error.orig if isinstance(error, DBAPIError) else error
    return isinstance(orig, psycopg.errors.QueryCanceled) and "user request" in str(orig)
