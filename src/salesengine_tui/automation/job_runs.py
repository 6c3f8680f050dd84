"""Recorded job runs: a job-runs row (start, end, status, counts, error, the runner that did
it) around each run, a transaction-scoped advisory lock per job so two runners never do the
same job at once (the second one records `skipped`), a lease for a job whose work spans
transactions, and the nightly rule. No scheduling here: the runner decides when; the use case
(`usecases.jobs`) owns the transactions. Nothing here outlives a transaction on its connection,
so it all works through PgBouncer in transaction mode."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session

Work = Callable[[Session], dict[str, Any]]
SKIPPED = "another runner is doing this job right now"
RAN_TONIGHT = "another runner has done tonight's run"


@dataclass(frozen=True)
class RunResult:
    job: str
    status: str  # ok, failed, skipped
    counts: dict[str, Any]
    error: str | None = None


def start(session: Session, job: str, *, now: datetime, runner: str | None = None) -> object:
    """A `running` row for this run, done by `runner`; returns its id."""
    return session.execute(
        sa.text(
            "INSERT INTO job_runs (job, started_at, status, runner) "
            "VALUES (:job, :now, 'running', :runner) RETURNING id"
        ),
        {"job": job, "now": now, "runner": runner},
    ).scalar_one()


def try_lock(session: Session, job: str) -> bool:
    """The job's advisory lock for this transaction, if no other runner holds it."""
    return session.execute(
        sa.text("SELECT pg_try_advisory_xact_lock(hashtext(:key))"),
        {"key": f"salesengine:job:{job}"},
    ).scalar_one()


def take_lease(session: Session, job: str, holder: str, *, lasts: timedelta) -> bool:
    """The job's lease for `holder` until `lasts` from now, unless another holder's lease has
    not expired yet (a holder that died lets go when its lease runs out). The server's clock,
    so runners on machines whose clocks differ agree on when a lease is over."""
    taken = session.execute(
        sa.text(
            "INSERT INTO job_leases AS l (job, holder, expires_at) "
            "VALUES (:job, :holder, now() + CAST(:lasts AS interval)) "
            "ON CONFLICT (job) DO UPDATE SET holder = EXCLUDED.holder, "
            "expires_at = EXCLUDED.expires_at WHERE l.expires_at < now() RETURNING job"
        ),
        {"job": job, "holder": holder, "lasts": lasts},
    ).first()
    return taken is not None


def renew_lease(session: Session, job: str, holder: str, *, lasts: timedelta) -> bool:
    """Still working: the lease runs `lasts` from now. False if it was lost (it ran out and
    another holder took it)."""
    result = session.execute(
        sa.text(
            "UPDATE job_leases SET expires_at = now() + CAST(:lasts AS interval) "
            "WHERE job = :job AND holder = :holder"
        ),
        {"job": job, "holder": holder, "lasts": lasts},
    )
    return result.rowcount == 1


def release_lease(session: Session, job: str, holder: str) -> None:
    session.execute(
        sa.text("DELETE FROM job_leases WHERE job = :job AND holder = :holder"),
        {"job": job, "holder": holder},
    )


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


def night_done(session: Session, day: date, tz: ZoneInfo) -> bool:
    """A nurture run of this local date whose work is committed (`mark_done`): asked under
    the job's lock, so a runner that found the night due at the same moment as another one
    does not do it again once the other has."""
    return session.execute(
        sa.text(
            "SELECT EXISTS (SELECT 1 FROM job_runs WHERE job = 'nurture' AND status = 'ok' "
            "AND (started_at AT TIME ZONE :tz)::date = :day)"
        ),
        {"tz": str(tz), "day": day},
    ).scalar_one()


def mark_done(session: Session, run_id: object) -> None:
    """The run is `ok` in the transaction of its work (its counts and end follow)."""
    session.execute(sa.text("UPDATE job_runs SET status = 'ok' WHERE id = :id"), {"id": run_id})
