"""A newer segment edit stops the older count on the server: QueryCanceller against a real
PostgreSQL query that would otherwise run for seconds."""

from __future__ import annotations

import threading

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from waiting import DEADLINE_SECONDS, wait_for

from salesengine_tui.db.cancel import QueryCanceller, was_cancelled

SLOW = "SELECT pg_sleep(10)"


def running(engine: Engine, query: str) -> bool:
    """The server is executing `query` in this database right now."""
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database()"
                " AND state = 'active' AND query = :q)"
            ),
            {"q": query},
        ).scalar_one()


def test_cancel_stops_the_running_query(engine: Engine) -> None:
    canceller = QueryCanceller()
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            with canceller.session(engine) as session:
                session.execute(text(SLOW))
        except DBAPIError as error:
            outcome["error"] = error

    worker = threading.Thread(target=run)
    worker.start()
    wait_for(lambda: running(engine, SLOW), "the slow query starting on the server")
    canceller.cancel()
    worker.join(timeout=DEADLINE_SECONDS)
    assert not worker.is_alive()
    # Stopped by the cancel: a query left to run would have ended without an error.
    assert "error" in outcome, "the query ran to its end"
    assert was_cancelled(outcome["error"])  # type: ignore[arg-type]
    assert not running(engine, SLOW)  # the server stopped working on it too
    canceller.cancel()  # nothing running: harmless


def test_a_statement_timeout_is_not_taken_for_a_cancel(engine: Engine) -> None:
    canceller = QueryCanceller()
    try:
        with canceller.session(engine, timeout_ms=100) as session:
            session.execute(text("SELECT pg_sleep(2)"))
    except DBAPIError as error:
        assert not was_cancelled(error)  # the person hears of a timeout
    else:
        raise AssertionError("the statement timeout did not fire")
