"""Recorded job runs: a job-runs row (start, end, status, counts, error) around each run, a
PostgreSQL advisory lock per job so two runners never do the same job at once (the second one
records `skipped`), and the nightly rule. No scheduling here: the runner decides when; the use
case (`usecases.jobs`) owns the transactions."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session

Work = Callable[[Session], dict[str, Any]]
SKIPPED = "another runner is doing this job right now"


@dataclass(frozen=True)
class RunResult:
    job: str
    status: str  # ok, failed, skipped
    counts: dict[str, Any]
    error: str | None = None


def start(session: Session, job: str, *, now: datetime) -> object:
    """A `running` row for this run; returns its id."""
    return session.execute(
        sa.text(
            "INSERT INTO job_runs (job, started_at, status) VALUES (:job, :now, 'running') "
            "RETURNING id"
        ),
        {"job": job, "now": now},
    ).scalar_one()


def try_lock(session: Session, job: str) -> bool:
    """The job's advisory lock for this transaction, if no other runner holds it."""
    return session.execute(
        sa.text("SELECT pg_try_advisory_xact_lock(hashtext(:key))"),
        {"key": f"salesengine:job:{job}"},
    ).scalar_one()


def finish(session: Session, run_id: object, result: RunResult, *, now: datetime) -> None:
    session.execute(
        sa.text(
            "UPDATE job_runs SET status = :status, finished_at = :now, "
            "counts = CAST(:counts AS jsonb), error = :error WHERE id = :id"
        ),
        {
            "status": result.status,
            "now": now,
            "counts": json.dumps(result.counts, default=str),
            "error": result.error,
            "id": run_id,
        },
    )


def tonight(now: datetime, at: clock_time, tz: ZoneInfo) -> date | None:
    """The business's local date when its local time has passed `at`, else None."""
    local = now.astimezone(tz)
    return local.date() if local.time() >= at else None


def nurture_ran_on(session: Session, day: date, tz: ZoneInfo) -> bool:
    """A nurture run that started on this local date and did not fail (running counts)."""
    return session.execute(
        sa.text(
            "SELECT EXISTS (SELECT 1 FROM job_runs WHERE job = 'nurture' "
            "AND status IN ('ok', 'running') "
            "AND (started_at AT TIME ZONE :tz)::date = :day)"
        ),
        {"tz": str(tz), "day": day},
    ).scalar_one()
