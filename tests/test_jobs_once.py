"""`salesengine-jobs once nurture|upsell`: runs recorded in job_runs, the advisory lock makes a
second runner skip (exit 3), dry runs change nothing; the upsell's first run sets its watermark
and says so, `--backfill-since DATE` turns history into opportunities once."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from factories import Desk
from salesengine_jobs.cli import main as jobs
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL
from test_cli import _url
from test_nurture import setup_quote
from test_upsell import FIXED_NOW, close_ticket, counts


def runs(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(text("SELECT job, status FROM job_runs ORDER BY started_at"))
        ]


def test_once_upsell_and_nurture_record_their_runs(
    engine: Engine, db_url: URL, desk: Desk, capsys: pytest.CaptureFixture[str]
) -> None:
    close_ticket(engine, desk)
    setup_quote(engine, desk, timedelta(days=400))  # long quiet, with a real clock too
    assert jobs(["--database-url", _url(db_url), "once", "upsell"]) == 0
    out = capsys.readouterr().out
    said = "upsell: ok: opportunities 1, notifications 1, emails 1 (tickets closed since the "
    assert said + "watermark, 2026-11-23 09:00 CST)" in out  # the watermark close_ticket set
    assert jobs(["--database-url", _url(db_url), "once", "nurture", "--dry-run"]) == 0
    said = capsys.readouterr().out
    assert said == (
        'nurture (dry run): ok: would queue 1 follow-up email and send 1 "call instead" '
        "notice; nothing was queued or sent\n"
    )
    assert "queued 1" not in said  # nothing claims work a dry run did not do
    with engine.connect() as conn:
        assert (
            conn.execute(
                text("SELECT count(*) FROM email_outbox WHERE idempotency_key LIKE 'nurture:%'")
            ).scalar_one()
            == 0
        )
    assert jobs(["--database-url", _url(db_url), "once", "nurture"]) == 0
    said = capsys.readouterr().out
    assert said == 'nurture: ok: queued 1 follow-up email, sent 1 "call instead" notice\n'
    assert runs(engine) == [("upsell", "ok"), ("nurture (dry run)", "ok"), ("nurture", "ok")]


def test_a_second_runner_skips_while_the_first_holds_the_job(
    engine: Engine, db_url: URL, desk: Desk, capsys: pytest.CaptureFixture[str]
) -> None:
    with engine.connect() as holder:  # another runner, mid-job
        holder.execute(text("SELECT pg_advisory_lock(hashtext('salesengine:job:upsell'))"))
        assert jobs(["--database-url", _url(db_url), "once", "upsell"]) == 3
        holder.execute(text("SELECT pg_advisory_unlock(hashtext('salesengine:job:upsell'))"))
    assert "another runner" in capsys.readouterr().out
    assert runs(engine) == [("upsell", "skipped")]


def test_status_shows_last_runs_backlog_and_next_runs(
    engine: Engine, db_url: URL, desk: Desk, capsys: pytest.CaptureFixture[str]
) -> None:
    assert jobs(["--database-url", _url(db_url), "once", "upsell"]) == 0
    capsys.readouterr()
    assert jobs(["--database-url", _url(db_url), "status"]) == 0
    out = capsys.readouterr().out
    assert "upsell" in out and "ok" in out
    assert "outbox backlog: 0 queued" in out
    assert "next runs under `run`: nurture" in out and "02:00" in out


def test_status_times_are_the_business_s_to_the_minute(
    engine: Engine, db_url: URL, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every time in `status` is in the business time zone (America/Chicago in the tests'
    config), to the minute, its zone named: no UTC, no microseconds, no ISO `T`."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO job_runs (job, started_at, finished_at, status) VALUES "
                "('nurture', '2026-12-01 08:00:01.123456+00', '2026-12-01 08:00:04.5+00', 'ok'),"
                "('upsell', '2026-07-01 15:42:09.987654+00', NULL, 'running'),"
                "('nurture (dry run)', '2026-11-30 20:00:00+00', '2026-11-30 20:02:30+00', 'ok')"
            )
        )
    assert jobs(["--database-url", _url(db_url), "status"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:4] == [
        "job                status    runner  last started",
        "nurture            ok        -       2026-12-01 02:00 CST, took 3 s",
        "nurture (dry run)  ok        -       2026-11-30 14:00 CST, took 2 min",
        "upsell             running   -       2026-07-01 10:42 CDT, still running",
    ]
    assert lines[4] == "outbox backlog: 0 queued"
    assert lines[5] == "no runner has registered yet (`salesengine-jobs run` registers)"
    assert re.fullmatch(r"next runs under `run`: nurture \d{4}-\d\d-\d\d 02:00 C[SD]T .*", lines[6])
    assert not any(mark in line for line in lines for mark in ("UTC", "+00:00", ".123", "T08"))


def test_the_first_upsell_run_sets_the_watermark_and_a_backfill_takes_history(
    engine: Engine, db_url: URL, desk: Desk, capsys: pytest.CaptureFixture[str]
) -> None:
    url = ["--database-url", _url(db_url)]
    close_ticket(engine, desk, closed_at=FIXED_NOW - timedelta(days=40), switched_on=False)
    close_ticket(engine, desk, n=2, switched_on=False)
    assert jobs([*url, "once", "upsell"]) == 0  # the real clock: both closed before it
    out = capsys.readouterr().out
    assert out.startswith("upsell: ok: watermark set at ")
    assert (
        "; 0 opportunities from history (tickets closed before it; --backfill-since DATE turns "
        "them into opportunities); since it: opportunities 0, notifications 0, emails 0"
    ) in out
    assert counts(engine) == (0, 0, 0)
    since = (FIXED_NOW - timedelta(days=7)).date()
    assert jobs([*url, "once", "upsell", "--backfill-since", since.isoformat()]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        f"upsell backfill: ok: 1 opportunity from tickets closed since {since} (before the "
        "watermark, "
    )
    assert out.rstrip().endswith("summary notifications 1, emails 0")
    assert jobs([*url, "once", "upsell", "--backfill-since", since.isoformat()]) == 0
    assert "ok: 0 opportunities from tickets closed since" in capsys.readouterr().out
    assert jobs([*url, "once", "upsell", "--backfill-since", "2020-01-01"]) == 0
    assert "ok: 1 opportunity from tickets closed since 2020-01-01" in capsys.readouterr().out
    assert counts(engine) == (2, 2, 0)
    assert runs(engine) == [("upsell", "ok")] + [("upsell backfill", "ok")] * 3


def test_backfill_since_must_be_a_past_date_and_goes_with_upsell(
    engine: Engine, db_url: URL, desk: Desk, capsys: pytest.CaptureFixture[str]
) -> None:
    url = ["--database-url", _url(db_url)]
    with pytest.raises(SystemExit) as exited:
        jobs([*url, "once", "upsell", "--backfill-since", "2026-13-01"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert (
        "--backfill-since: expected a date as YYYY-MM-DD (e.g. 2026-01-31), got '2026-13-01'" in err
    )
    future = date.today() + timedelta(days=2)
    assert jobs([*url, "once", "upsell", "--backfill-since", future.isoformat()]) == 1
    assert f"error: the backfill date {future} is after today" in capsys.readouterr().err
    assert jobs([*url, "once", "nurture", "--backfill-since", "2026-01-01"]) == 1
    assert "error: --backfill-since goes with `once upsell`" in capsys.readouterr().err
    assert runs(engine) == [] and counts(engine) == (0, 0, 0)
