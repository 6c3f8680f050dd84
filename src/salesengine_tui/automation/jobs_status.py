"""What the jobs runner has done: last run per job and the outbox backlog."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlmodel import Session


@dataclass(frozen=True)
class LastRun:
    job: str
    status: str
    started_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True)
class JobStatus:
    last_runs: list[LastRun]
    outbox_backlog: int


def job_status(session: Session) -> JobStatus:
    runs = session.execute(
        text(
            "SELECT DISTINCT ON (job) job, status, started_at, finished_at "
            "FROM job_runs ORDER BY job, started_at DESC"
        )
    ).all()
    backlog = session.execute(
        text("SELECT count(*) FROM email_outbox WHERE status = 'queued'")
    ).scalar_one()
    return JobStatus([LastRun(*row) for row in runs], int(backlog))
