"""Waiting on what threads, processes and the database do, never on the clock: poll a
condition until it holds; only a deadline far beyond the normal case fails the wait."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import Engine, text

# Far beyond what any of these takes on a loaded machine: only something broken gets there.
DEADLINE_SECONDS = 30.0


def wait_for(check: Callable[[], object], what: str, seconds: float = DEADLINE_SECONDS) -> None:
    """Until `check()` is truthy; fails with `what` after `seconds` of it not being."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {seconds:g} s")
        time.sleep(0.02)


def listener_connected(engine: Engine, channel: str) -> bool:
    """The server shows a live-updates connection in this database whose LISTEN on
    `channel` is done (in its last statement, which names every channel it hears, and it is
    idle again)."""
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT EXISTS (SELECT 1 FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name = 'salesengine-live' "
                "AND state = 'idle' AND position(:listen in query) > 0)"
            ),
            {"listen": f'LISTEN "{channel}"'},
        ).scalar_one()
