"""The jobs runner's work, each run recorded in job_runs under the job's advisory lock: nurture
and the upsell sync; when the nightly nurture is due; the runner's status. The outbox is
`desk.email.drain`. Also the operations side's ticket closing, which the upsell sync picks up."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from datetime import time as clock_time
from zoneinfo import ZoneInfo

from sqlmodel import Session

from ..automation import job_runs, nurture, upsell
from ..automation.job_runs import RunResult, Work
from ..automation.jobs_status import JobStatus, job_status
from ..base.errors import UserError
from .base import UseCases


class Jobs(UseCases):
    def run(self, job: str, work: Work, *, locked: bool = True) -> RunResult:
        """`work` in one transaction under the job's advisory lock, recorded as a run: the
        run's row is committed first, so a run that dies still shows as started."""
        with self.write() as session:
            run_id = job_runs.start(session, job, now=self.now())
        status, counts, error = "ok", {}, None
        try:
            with self.write() as session:
                if not locked or job_runs.try_lock(session, job):
                    counts = work(session)
                else:
                    status, error = "skipped", job_runs.SKIPPED
        except Exception as exc:  # recorded, then raised to the runner, which logs and carries on
            self._finish(run_id, RunResult(job, "failed", counts, f"{type(exc).__name__}: {exc}"))
            raise
        result = RunResult(job, status, counts, error)
        self._finish(run_id, result)
        return result

    def _finish(self, run_id: object, result: RunResult) -> None:
        with self.write() as session:
            job_runs.finish(session, run_id, result, now=self.now())

    def nurture(self, *, dry_run: bool = False) -> RunResult:
        """Tonight's follow-ups; a dry run counts them and rolls its work back."""

        def work(session: Session) -> dict[str, object]:
            report = nurture.run(session, now=self.now(), dry_run=dry_run)
            if dry_run:
                session.rollback()
            return asdict(report)

        return self.run("nurture" + (" (dry run)" if dry_run else ""), work)

    def upsell(self) -> RunResult:
        """End-of-life tickets closed since the watermark become opportunities (the first
        run sets the watermark: what closed before it is history)."""
        return self.run(
            "upsell", lambda session: asdict(upsell.sync(session, now=self.now(), tz=self.tz))
        )

    def upsell_backfill(self, since: date) -> RunResult:
        """History on request: tickets closed from `since` (a business date, not after today)
        up to the watermark become opportunities, one summary per manager, no email."""
        today = self.now().astimezone(self.tz).date()
        if since > today:
            raise UserError(f"the backfill date {since.isoformat()} is after today ({today})")

        def work(session: Session) -> dict[str, object]:
            return asdict(upsell.backfill(session, since=since, tz=self.tz, now=self.now()))

        return self.run("upsell backfill", work)

    def nightly_due(self, now: datetime, at: clock_time, tz: ZoneInfo) -> bool:
        """Past tonight's time where the business is, and no nurture run yet on that date."""
        day = job_runs.tonight(now, at, tz)
        if day is None:
            return False
        with self.read() as session:
            return not job_runs.nurture_ran_on(session, day, tz)

    def status(self) -> JobStatus:
        with self.read() as session:
            return job_status(session)
