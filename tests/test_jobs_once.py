"""`salesengine-jobs once nurture|upsell`: runs recorded in job_runs, the advisory lock makes a
second runner skip (exit 3), dry runs change nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from factories import Desk
from salesengine_jobs.cli import main as jobs
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL
from test_cli import _url
from test_nurture import setup_quote
from test_upsell import close_ticket


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
    assert "upsell: ok: opportunities 1, notifications 1, emails 1" in capsys.readouterr().out
    assert jobs(["--database-url", _url(db_url), "once", "nurture", "--dry-run"]) == 0
    assert "emails queued 1" in capsys.readouterr().out
    with engine.connect() as conn:
        assert (
            conn.execute(
                text("SELECT count(*) FROM email_outbox WHERE idempotency_key LIKE 'nurture:%'")
            ).scalar_one()
            == 0
        )
    assert jobs(["--database-url", _url(db_url), "once", "nurture"]) == 0
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
