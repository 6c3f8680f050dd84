"""Running a job once, recorded: a job-runs row (start, end, status, counts, error) around the
work, and a PostgreSQL advisory lock per job so two runners never do the same job at once
(the second one records `skipped`). No scheduling here: the runner decides when."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Session

from .clock import Clock
from .db.engine import session_scope

Work = Callable[[Session], dict[str, Any]]


@dataclass(frozen=True)
class RunResult:
    job: str
    status: str  # ok, failed, skipped
    counts: dict[str, Any]
    error: str | None = None


def run_job(
    engine: Engine, job: str, work: Work, *, clock: Clock, locked: bool = True
) -> RunResult:
    """Run `work` in one transaction under the job's advisory lock, and record the run."""
    with session_scope(engine) as session:
        run_id = session.execute(
            sa.text(
                "INSERT INTO job_runs (job, started_at, status) VALUES (:job, :now, 'running') "
                "RETURNING id"
            ),
            {"job": job, "now": clock.now()},
        ).scalar_one()
    status, counts, error = "ok", {}, None
    try:
        with session_scope(engine) as session:
            got = (
                not locked
                or session.execute(
                    sa.text("SELECT pg_try_advisory_xact_lock(hashtext(:key))"),
                    {"key": f"salesengine:job:{job}"},
                ).scalar_one()
            )
            if got:
                counts = work(session)
            else:
                status, error = "skipped", "another runner is doing this job right now"
    except Exception as exc:  # recorded, then raised to the runner, which logs and carries on
        status, error = "failed", f"{type(exc).__name__}: {exc}"
        _finish(engine, run_id, status, counts, error, clock)
        raise
    _finish(engine, run_id, status, counts, error, clock)
    return RunResult(job, status, counts, error)


def _finish(
    engine: Engine,
    run_id: object,
    status: str,
    counts: dict[str, Any],
    error: str | None,
    clock: Clock,
) -> None:
    with session_scope(engine) as session:
        session.execute(
            sa.text(
                "UPDATE job_runs SET status = :status, finished_at = :now, "
                "counts = CAST(:counts AS jsonb), error = :error WHERE id = :id"
            ),
            {
                "status": status,
                "now": clock.now(),
                "counts": json.dumps(counts, default=str),
                "error": error,
                "id": run_id,
            },
        )
