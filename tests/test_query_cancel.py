"""A newer segment edit stops the older count on the server: QueryCanceller against a real
PostgreSQL query that would otherwise run for seconds."""

from __future__ import annotations

import threading
import time

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from salesengine_tui.db.cancel import QueryCanceller, was_cancelled


def test_cancel_stops_the_running_query(engine: Engine) -> None:
    canceller = QueryCanceller()
    outcome: dict[str, object] = {}

    def run() -> None:
        started = time.perf_counter()
        try:
            with canceller.session(engine) as session:
                session.execute(text("SELECT pg_sleep(10)"))
        except DBAPIError as error:
            outcome["error"] = error
        outcome["seconds"] = time.perf_counter() - started

    worker = threading.Thread(target=run)
    worker.start()
    time.sleep(0.3)
    canceller.cancel()
    worker.join(timeout=5)
    assert not worker.is_alive()
    assert was_cancelled(outcome["error"])  # type: ignore[arg-type]
    assert outcome["seconds"] < 3
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
