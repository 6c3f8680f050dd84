"""The scheduled loop: the nightly rule (catch-up, once per local date across DST), a job that
raises or runs long does not stop or starve the others, SIGTERM exits cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from datetime import time as clock_time
from zoneinfo import ZoneInfo

from factories import Desk
from salesengine_jobs.runner import Runner, nightly_due
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL
from test_cli import _url

from salesengine_tui.clock import FixedClock
from salesengine_tui.settings import load_settings

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


def test_a_failing_job_and_a_slow_job_do_not_stop_the_others(engine: Engine) -> None:
    runner = Runner(engine, load_settings())
    calls = {"boom": 0, "slow": 0, "fast": 0}
    lock = threading.Lock()

    def counted(name: str, *, fail=False, sleep=0.0):
        def job() -> None:
            with lock:
                calls[name] += 1
            time.sleep(sleep)
            if fail:
                raise RuntimeError("database went away")

        return job

    runner.schedule_jobs({
        "boom": (0.1, counted("boom", fail=True)),
        "slow": (0.1, counted("slow", sleep=1.0)),
        "fast": (0.1, counted("fast")),
    })  # fmt: skip
    runner.run(tick=0.02, ticks=40)  # about 0.8 s
    assert calls["fast"] >= 5  # kept its cadence beside a slow and a failing job
    # retried at its next tick (0.1 s), not on every loop (0.02 s): far fewer than the loops
    assert 3 <= calls["boom"] <= 20
    assert calls["slow"] == 1  # still running: later ticks skipped it rather than pile up


def test_sigterm_stops_the_runner_cleanly(db_url: URL, desk: Desk, tmp_path) -> None:
    env = {**os.environ, "SALESENGINE_OUTBOX_DIR": str(tmp_path), "SALESENGINE_NURTURE_AT": "23:59"}
    runner = subprocess.Popen(
        [sys.executable, "-m", "salesengine_jobs.cli", "--database-url", _url(db_url), "run"],
        env=env, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        time.sleep(3)
        runner.send_signal(signal.SIGTERM)
        code = runner.wait(timeout=20)
    finally:
        if runner.poll() is None:
            runner.kill()
    log = runner.stderr.read()
    assert code == 0
    assert "event=start" in log and "event=stopped" in log and "Traceback" not in log


def test_closing_an_end_of_life_ticket_wakes_the_upsell_at_once(engine: Engine, desk: Desk) -> None:
    from test_upsell import close_ticket

    settings = load_settings()
    runner = Runner(engine, settings)
    runner.schedule_jobs({"upsell": (3600, runner._upsell)})  # the periodic sync would not come
    done = threading.Thread(target=runner.run, kwargs={"tick": 0.05, "ticks": 400})
    done.start()
    time.sleep(1.0)  # the listener connects
    ticket = close_ticket(engine, desk, resolution="pending")
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE tickets SET status = 'open', closed_at = NULL WHERE id = :t"),
            {"t": ticket.id},
        )
        conn.execute(text("UPDATE tickets SET status = 'closed', resolution = 'Equipment End of Life', "
                          "closed_at = now() WHERE id = :t"), {"t": ticket.id})  # fmt: skip
    deadline = time.monotonic() + 3
    found = 0
    while time.monotonic() < deadline and not found:
        with engine.connect() as conn:
            found = conn.execute(
                text("SELECT count(*) FROM estimates WHERE source_ticket_id = :t"), {"t": ticket.id}
            ).scalar_one()
        time.sleep(0.05)
    done.join()
    assert found == 1


def test_runner_killed_mid_upsell_loses_and_doubles_nothing(
    db_url: URL, engine: Engine, desk: Desk, tmp_path
) -> None:
    from test_upsell import close_ticket, counts

    for n in range(1, 41):
        close_ticket(engine, desk, n=n)
    env = {**os.environ, "SALESENGINE_OUTBOX_DIR": str(tmp_path), "SALESENGINE_NURTURE_AT": "23:59"}
    for delay in (0.6, 0.9):  # kill it at a couple of moments during start-up work
        runner = subprocess.Popen(
            [sys.executable, "-m", "salesengine_jobs.cli", "--database-url", _url(db_url), "run"],
            env=env, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(delay)
        runner.send_signal(signal.SIGKILL)
        runner.wait(timeout=10)
    from salesengine_jobs.cli import main as jobs

    assert jobs(["--database-url", _url(db_url), "once", "upsell"]) in (0, 3)
    assert counts(engine) == (40, 40, 40)
