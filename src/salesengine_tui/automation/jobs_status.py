"""What the jobs runners have done: every runner seen, the last run per job (and which runner
did it) and the outbox backlog."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlmodel import Session

from .runners import RunnerSeen, seen


@dataclass(frozen=True)
class LastRun:
    job: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    runner: str | None = None  # None: a run from before runners were recorded


@dataclass(frozen=True)
class JobStatus:
    last_runs: list[LastRun]
    outbox_backlog: int
    runners: list[RunnerSeen]


def job_status(session: Session) -> JobStatus:
    runs = session.execute(
        text(
            "SELECT DISTINCT ON (job) job, status, started_at, finished_at, runner "
            "FROM job_runs ORDER BY job, started_at DESC"
        )
    ).all()
    backlog = session.execute(
        text("SELECT count(*) FROM email_outbox WHERE status = 'queued'")
    ).scalar_one()
    return JobStatus([LastRun(*row) for row in runs], int(backlog), seen(session))
