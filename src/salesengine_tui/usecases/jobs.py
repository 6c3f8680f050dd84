"""The jobs runner's work, each run recorded in job_runs under the job's advisory lock: nurture,
the upsell sync and the suppression pull; when the nightly nurture is due; the runner's
status. The outbox is `desk.email.drain`. Also the operations side's ticket closing, which the
upsell sync picks up."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import date, datetime
from datetime import time as clock_time
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session

from ..automation import job_runs, nurture, upsell
from ..automation.job_runs import RunResult, Work
from ..automation.jobs_status import JobStatus, job_status
from ..base.errors import UserError
from ..email import events, suppression_pull
from ..email.suppression_pull import Feed, FeedFailed, FeedReport
from .base import UseCases


class Jobs(UseCases):
    def run(self, job: str, work: Work, *, locked: bool = True) -> RunResult:
        """`work` in one transaction under the job's advisory lock, recorded as a run."""

        def body() -> RunResult:
            with self.write() as session:
                if locked and not job_runs.try_lock(session, job):
                    return RunResult(job, "skipped", {}, job_runs.SKIPPED)
                return RunResult(job, "ok", work(session))

        return self._recorded(job, body)

    def _recorded(self, job: str, body: Callable[[], RunResult]) -> RunResult:
        """`body` recorded as a run: the run's row is committed first, so a run that dies
        still shows as started."""
        with self.write() as session:
            run_id = job_runs.start(session, job, now=self.now())
        try:
            result = body()
        except Exception as exc:  # recorded, then raised to the runner, which logs and carries on
            self._finish(run_id, RunResult(job, "failed", {}, f"{type(exc).__name__}: {exc}"))
            raise
        self._finish(run_id, result)
        return result

    def _finish(self, run_id: object, result: RunResult) -> None:
        with self.write() as session:
            job_runs.finish(session, run_id, result, now=self.now())

    @contextmanager
    def _held(self, job: str) -> Iterator[bool]:
        """The job's advisory lock (the key `job_runs.try_lock` takes) held across several
        transactions, for work that calls a provider between them: a session lock on a
        connection of its own in autocommit, so no transaction stays open meanwhile."""
        key = {"key": f"salesengine:job:{job}"}
        with self.ctx.engine.connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            held = connection.execute(
                sa.text("SELECT pg_try_advisory_lock(hashtext(:key))"), key
            ).scalar_one()
            try:
                yield held
            finally:
                if held:
                    connection.execute(sa.text("SELECT pg_advisory_unlock(hashtext(:key))"), key)

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

    def suppressions(self) -> RunResult:
        """The providers' bounces, complaints and unsubscribes since the last pull, stored
        once and applied, for sites the providers' webhooks cannot reach. Each feed is read
        with no transaction open, then its events and its new mark are one transaction; a
        feed that fails keeps its mark and the others go on."""

        def pull() -> RunResult:
            with self._held("suppressions") as held:
                if not held:
                    return RunResult("suppressions", "skipped", {}, job_runs.SKIPPED)
                opened = suppression_pull.open_feeds(self.ctx.settings)
                try:
                    reports = [self._pull(feed) for feed in opened.feeds]
                finally:
                    opened.close()
            failed = "; ".join(f"{r.label}: {r.error}" for r in reports if r.error) or None
            counts = {"feeds": [asdict(r) for r in reports]}
            return RunResult("suppressions", "failed" if failed else "ok", counts, failed)

        return self._recorded("suppressions", pull)

    def _pull(self, feed: Feed) -> FeedReport:
        report = FeedReport(feed.label)
        with self.read() as session:
            asked = suppression_pull.window(suppression_pull.mark(session, feed), self.now())
        try:
            fetched = feed.fetch(asked)
        except FeedFailed as exc:
            report.error = str(exc)
            return report
        with self.write() as session:
            now = self.now()
            done = events.record(
                session, list(fetched.events.values()), settings=self.ctx.settings, now=now
            )
            until = suppression_pull.new_mark(fetched, asked)
            report.synced_until = suppression_pull.advance(session, feed, until, now=now)
        report.received, report.new = done.received, done.stored
        report.suppressed, report.opted_out = done.suppressed, done.opted_out
        report.unreadable = len(fetched.problems)
        return report

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
