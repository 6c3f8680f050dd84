"""The scheduled loop: the nightly rule (catch-up, once per local date across DST), a job that
raises or runs long does not stop or starve the others, SIGTERM exits cleanly."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from datetime import time as clock_time
from zoneinfo import ZoneInfo

import pytest
from factories import Desk
from salesengine_jobs.runner import Runner, nightly_due
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL
from test_cli import _url
from waiting import DEADLINE_SECONDS, listener_connected, wait_for

from salesengine_tui.activity.feed import UPSELL_CHANNEL
from salesengine_tui.base.clock import FixedClock
from salesengine_tui.base.settings import load_settings

CHICAGO = ZoneInfo("America/Chicago")
TWO_AM = clock_time(2, 0)


def record_run(engine: Engine, at: datetime, status: str = "ok") -> None:
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO job_runs (job, started_at, status) VALUES ('nurture', :at, :s)"),
                     {"at": at, "s": status})  # fmt: skip


def test_nightly_rule(engine: Engine) -> None:
    # 01:59 local: not yet; 02:00: due; after a run that night: not again until the next date
    assert not nightly_due(engine, datetime(2026, 11, 24, 7, 59, tzinfo=UTC), TWO_AM, CHICAGO)
    assert nightly_due(engine, datetime(2026, 11, 24, 8, 0, tzinfo=UTC), TWO_AM, CHICAGO)
    record_run(engine, datetime(2026, 11, 24, 8, 0, tzinfo=UTC))
    assert not nightly_due(engine, datetime(2026, 11, 25, 5, 59, tzinfo=UTC), TWO_AM, CHICAGO)
    assert nightly_due(engine, datetime(2026, 11, 25, 8, 1, tzinfo=UTC), TWO_AM, CHICAGO)
    # a failed run does not count: it is tried again
    record_run(engine, datetime(2026, 11, 25, 8, 1, tzinfo=UTC), status="failed")
    assert nightly_due(engine, datetime(2026, 11, 25, 8, 2, tzinfo=UTC), TWO_AM, CHICAGO)


def test_daylight_saving_night_runs_once(engine: Engine) -> None:
    # 2026-11-01: clocks go back at 02:00 CDT, so 01:00-02:00 happens twice; 2026-03-08: 02:xx
    # never happens. Both nights get exactly one run.
    fall_back_run = datetime(2026, 11, 1, 8, 5, tzinfo=UTC)  # 02:05 CST, after the change
    assert nightly_due(engine, fall_back_run, TWO_AM, CHICAGO)
    record_run(engine, fall_back_run)
    assert not nightly_due(engine, datetime(2026, 11, 1, 20, 0, tzinfo=UTC), TWO_AM, CHICAGO)
    spring = datetime(2026, 3, 8, 8, 30, tzinfo=UTC)  # 03:30 CDT: 02:00 was skipped
    assert nightly_due(engine, spring, TWO_AM, CHICAGO)


def test_missed_night_is_caught_up_once_at_start(engine: Engine, desk: Desk) -> None:
    settings = load_settings(nurture_at="02:00")
    clock = FixedClock(datetime(2026, 11, 24, 15, 0, tzinfo=UTC))  # 09:00 local, no run yet
    for _ in range(2):  # started twice the same day
        runner = Runner(engine, settings, clock)
        runner.schedule_jobs({"nurture": (60, runner._nurture)})
        runner.run(tick=0.01, ticks=3)
    with engine.connect() as conn:
        assert (
            conn.execute(text("SELECT count(*) FROM job_runs WHERE job = 'nurture'")).scalar_one()
            == 1
        )


def test_a_failing_job_and_a_slow_job_do_not_stop_the_others(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="salesengine.jobs")
    runner = Runner(engine, load_settings())
    calls = {"boom": 0, "slow": 0, "fast": 0}
    lock = threading.Lock()
    release_slow = threading.Event()

    def counted(name: str, *, fail: bool = False, hold: bool = False) -> Callable[[], None]:
        def job() -> None:
            with lock:
                calls[name] += 1
            if hold:  # still running until the test lets it go
                release_slow.wait(DEADLINE_SECONDS)
            if fail:
                raise RuntimeError("database went away")

        return job

    def logged(event: str, name: str) -> int:
        return sum(
            1 for r in list(caplog.records) if r.getMessage().startswith(f"{event} job={name} ")
        )

    runner.schedule_jobs({
        "boom": (0.1, counted("boom", fail=True)),
        "slow": (0.1, counted("slow", hold=True)),
        "fast": (0.1, counted("fast")),
    })  # fmt: skip
    loop = threading.Thread(target=runner.run, kwargs={"tick": 0.02})
    loop.start()
    try:
        wait_for(
            lambda: calls["fast"] >= 5 and calls["boom"] >= 3 and logged("event=skip", "slow") >= 2,
            "the fast job running on beside a failing one and a held one",
        )
    finally:
        runner.stopping.set()
        release_slow.set()
        loop.join(DEADLINE_SECONDS)
    assert not loop.is_alive()
    # Each failure was logged and the loop carried on.
    assert logged("event=error", "boom") == calls["boom"]
    # Retried at its next tick (0.1 s) like the fast job beside it, not on every loop (0.02 s).
    # A tick that found a job's thread still busy logged a skip: those count as ticks too.
    boom_ticks = calls["boom"] + logged("event=skip", "boom")
    fast_ticks = calls["fast"] + logged("event=skip", "fast")
    assert boom_ticks <= fast_ticks + 1, (boom_ticks, fast_ticks)
    assert calls["slow"] == 1  # still running: later ticks skipped it rather than pile up


def test_sigterm_stops_the_runner_cleanly(
    db_url: URL, engine: Engine, desk: Desk, tmp_path
) -> None:
    env = {**os.environ, "SALESENGINE_OUTBOX_DIR": str(tmp_path), "SALESENGINE_NURTURE_AT": "23:59"}
    runner = subprocess.Popen(
        [sys.executable, "-m", "salesengine_jobs.cli", "--database-url", _url(db_url), "run"],
        env=env, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    lines: list[str] = []

    def read_log() -> None:
        assert runner.stderr is not None
        for line in runner.stderr:
            lines.append(line)

    reader = threading.Thread(target=read_log, daemon=True)
    reader.start()
    try:
        # In its loop: it has said so, and its start-up jobs are launched (the listener starts
        # after them).
        wait_for(
            lambda: (
                runner.poll() is None
                and any("event=start" in line for line in lines)
                and listener_connected(engine, UPSELL_CHANNEL)
            ),
            "the runner starting its loop",
        )
        runner.send_signal(signal.SIGTERM)
        code = runner.wait(timeout=DEADLINE_SECONDS)
    finally:
        if runner.poll() is None:
            runner.kill()
    reader.join(DEADLINE_SECONDS)
    log = "".join(lines)
    assert code == 0
    assert "event=start" in log and "event=stopped" in log and "Traceback" not in log


def upsell_estimates(engine: Engine, ticket_id: object) -> int:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT count(*) FROM estimates WHERE source_ticket_id = :t"), {"t": ticket_id}
        ).scalar_one()


def upsell_runs(engine: Engine, status: str) -> int:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT count(*) FROM job_runs WHERE job = 'upsell' AND status = :s"),
            {"s": status},
        ).scalar_one()


def test_closing_an_end_of_life_ticket_wakes_the_upsell_at_once(engine: Engine, desk: Desk) -> None:
    from test_upsell import close_ticket

    settings = load_settings()
    runner = Runner(engine, settings)
    runner.schedule_jobs({"upsell": (3600, runner._upsell)})  # the periodic sync would not come
    loop = threading.Thread(target=runner.run, kwargs={"tick": 0.05})
    loop.start()
    try:
        # The start-up sync is over (so it cannot be what finds the ticket) and the listener
        # is up (so the ticket's NOTIFY is heard).
        wait_for(lambda: upsell_runs(engine, "ok") == 1, "the start-up upsell sync finishing")
        wait_for(
            lambda: listener_connected(engine, UPSELL_CHANNEL), "the runner's listener connecting"
        )
        ticket = close_ticket(engine, desk, resolution="pending")
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE tickets SET status = 'open', closed_at = NULL WHERE id = :t"),
                {"t": ticket.id},
            )
            conn.execute(text("UPDATE tickets SET status = 'closed', resolution = 'Equipment End of Life', "
                              "closed_at = now() WHERE id = :t"), {"t": ticket.id})  # fmt: skip
        wait_for(
            lambda: upsell_estimates(engine, ticket.id) > 0, "the ticket's NOTIFY waking the sync"
        )
    finally:
        runner.stopping.set()
        loop.join(DEADLINE_SECONDS)
    assert not loop.is_alive()
    assert upsell_estimates(engine, ticket.id) == 1
    assert upsell_runs(engine, "ok") == 2  # start-up, then the wake


def upsell_blocked_on(engine: Engine, table: str, statement: str) -> int | None:
    """The backend running the upsell job's `statement`, waiting for a lock on `table`, if
    any; it holds the upsell job's advisory lock (so it is inside `run_job`'s work transaction,
    and it is not another job writing the same table)."""
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT a.pid FROM pg_stat_activity a JOIN pg_locks w ON w.pid = a.pid "
                "WHERE a.datname = current_database() AND a.query LIKE :statement "
                "AND NOT w.granted AND w.relation = CAST(:table AS regclass) "
                "AND EXISTS (SELECT 1 FROM pg_locks h WHERE h.pid = a.pid AND h.granted "
                "            AND h.locktype = 'advisory' AND CAST(h.objid AS bigint) = "
                "            (CAST(hashtext('salesengine:job:upsell') AS bigint) & 4294967295))"
            ),
            {"table": table, "statement": f"%{statement}%"},
        ).scalar()


def holds_write_lock(engine: Engine, pid: int, table: str) -> bool:
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = :pid AND granted "
                "AND relation = CAST(:table AS regclass) AND mode = 'RowExclusiveLock')"
            ),
            {"pid": pid, "table": table},
        ).scalar_one()


def backend_alive(engine: Engine, pid: int) -> bool:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = :pid)"), {"pid": pid}
        ).scalar_one()


def kill_mid_upsell(
    engine: Engine, argv: list[str], env: dict[str, str], table: str
) -> tuple[int, bool]:
    """Start a runner and SIGKILL it while its start-up upsell is inside its transaction,
    waiting to write `table` (the test holds a lock on it). Returns that backend's pid, and
    whether it had written estimates by then (uncommitted)."""
    statement = f"INSERT INTO {table}"
    with engine.connect() as holder:
        holder.execute(text(f"LOCK TABLE {table} IN SHARE MODE"))  # reads pass, writes wait
        runner = subprocess.Popen(argv, env=env, stderr=subprocess.DEVNULL)
        try:
            found: list[int] = []

            def blocked() -> bool:
                pid = upsell_blocked_on(engine, table, statement)
                found.extend([pid] if pid is not None else [])
                return bool(found)

            wait_for(blocked, f"the runner's upsell sync reaching {statement}")
            wrote_estimates = holds_write_lock(engine, found[0], "estimates")
        finally:
            runner.send_signal(signal.SIGKILL)
            runner.wait(timeout=DEADLINE_SECONDS)
        holder.rollback()
    return found[0], wrote_estimates


def test_runner_killed_mid_upsell_loses_and_doubles_nothing(
    db_url: URL, engine: Engine, desk: Desk, tmp_path
) -> None:
    from test_upsell import close_ticket, counts

    for n in range(1, 41):
        close_ticket(engine, desk, n=n)
    env = {**os.environ, "SALESENGINE_OUTBOX_DIR": str(tmp_path), "SALESENGINE_NURTURE_AT": "23:59"}
    argv = [sys.executable, "-m", "salesengine_jobs.cli", "--database-url", _url(db_url), "run"]
    # Killed twice inside the start-up upsell's one transaction: before its first write, and
    # after it has written the estimates and their history. A lock the test holds on the next
    # table the sync writes stops it there, so the kill is known to find it mid-work.
    for killed, table in enumerate(("estimates", "notifications"), start=1):
        pid, wrote_estimates = kill_mid_upsell(engine, argv, env, table)
        # It was in flight: its run recorded as running, inside its work transaction (the
        # second time with the estimates written).
        assert upsell_runs(engine, "running") == killed
        assert wrote_estimates == (table == "notifications")
        # Its server process finds the client gone and rolls the transaction back.
        wait_for(
            lambda pid=pid: not backend_alive(engine, pid), "the killed runner's backend ending"
        )
        assert counts(engine) == (0, 0, 0)  # nothing of the killed work was kept
    from salesengine_jobs.cli import main as jobs

    assert jobs(["--database-url", _url(db_url), "once", "upsell"]) in (0, 3)
    assert counts(engine) == (40, 40, 40)
