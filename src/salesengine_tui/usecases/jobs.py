"""The jobs runner's work, each run recorded in job_runs (with the runner that did it) under the
job's transaction-scoped advisory lock: nurture, the upsell sync; the suppression pull under a
lease (its work spans transactions); when the nightly nurture is due; runners registering and
their heartbeat; the status. The outbox is `desk.email.drain`. Also the operations side's
ticket closing, which the upsell sync picks up."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from zoneinfo import ZoneInfo

from sqlmodel import Session

from ..automation import job_runs, nurture, runners, upsell
from ..automation.job_runs import RunResult, Work
from ..automation.jobs_status import JobStatus, job_status

# Re-exported: the runner (jobs/) names itself with these and reaches only the use cases.
from ..automation.runners import HEARTBEAT as HEARTBEAT
from ..automation.runners import Me as Me
from ..base.errors import UserError
from ..email import events, suppression_pull
from ..email.suppression_pull import Feed, FeedFailed, FeedReport
from .base import UseCases

# The suppression pull's lease: renewed before each feed, so it only has to outlast one feed's
# requests; a runner that dies mid-pull holds the job this long at most.
PULL_LEASE = timedelta(minutes=15)
LEASE_LOST = "the pull's lease ran out and another runner took the job"


class Jobs(UseCases):
    SYSTEM_WORK = True

    def run(
        self, job: str, work: Work, *, locked: bool = True, night: date | None = None
    ) -> RunResult:
        """`work` in one transaction under the job's advisory lock, recorded as a run. With
        `night`, the nightly run of that date: skipped if another run of it got there first
        (two runners may both find it due; the second takes the lock once the first let go)."""

        def body(run_id: object) -> RunResult:
            with self.write() as session:
                if locked and not job_runs.try_lock(session, job):
                    return RunResult(job, "skipped", {}, job_runs.SKIPPED)
                if night is None:
                    return RunResult(job, "ok", work(session))
                if job_runs.night_done(session, night, self.tz):
                    return RunResult(job, "skipped", {}, job_runs.RAN_TONIGHT)
                counts = work(session)
                job_runs.mark_done(session, run_id)
                return RunResult(job, "ok", counts)

        return self._recorded(job, body)

    def _recorded(self, job: str, body: Callable[[object], RunResult]) -> RunResult:
        """`body` recorded as a run: the run's row is committed first, so a run that dies
        still shows as started."""
        with self.write() as session:
            run_id = job_runs.start(
                session, job, now=self.now(), runner=runners.runner_name(self.ctx.settings)
            )
        try:
            result = body(run_id)
        except Exception as exc:  # recorded, then raised to the runner, which logs and carries on
            self._finish(run_id, RunResult(job, "failed", {}, f"{type(exc).__name__}: {exc}"))
            raise
        self._finish(run_id, result)
        return result

    def _finish(self, run_id: object, result: RunResult) -> None:
        with self.write() as session:
            job_runs.finish(session, run_id, result, now=self.now())

    @contextmanager
    def _leased(self, job: str) -> Iterator[Callable[[], bool] | None]:
        """The job's lease, for work that calls a provider between its transactions: taken
        and let go in transactions of their own, so no connection is held meanwhile (a session
        advisory lock would pin one, and PgBouncer's transaction mode has none). Yields a
        `renew()` that says whether the lease is still this holder's, or None when another
        runner holds the job."""
        holder = f"{runners.runner_name(self.ctx.settings)}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        with self.write() as session:
            held = job_runs.take_lease(session, job, holder, lasts=PULL_LEASE)
        if not held:
            yield None
            return

        def renew() -> bool:
            with self.write() as session:
                return job_runs.renew_lease(session, job, holder, lasts=PULL_LEASE)

        try:
            yield renew
        finally:
            with self.write() as session:
                job_runs.release_lease(session, job, holder)

    def nurture(self, *, dry_run: bool = False, night: date | None = None) -> RunResult:
        """Tonight's follow-ups; a dry run counts them and rolls its work back. `night`: the
        scheduled run of that business date, done once whichever runner gets there."""

        def work(session: Session) -> dict[str, object]:
            report = nurture.run(session, now=self.now(), dry_run=dry_run)
            if dry_run:
                session.rollback()
            return asdict(report)

        return self.run("nurture" + (" (dry run)" if dry_run else ""), work, night=night)

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

        def pull(_run_id: object) -> RunResult:
            with self._leased("suppressions") as renew:
                if renew is None:
                    return RunResult("suppressions", "skipped", {}, job_runs.SKIPPED)
                opened = suppression_pull.open_feeds(self.ctx.settings)
                reports: list[FeedReport] = []
                try:
                    for feed in opened.feeds:
                        if not renew():  # another runner pulls now: it reads from our marks
                            reports.append(FeedReport(feed.label, error=LEASE_LOST))
                            break
                        reports.append(self._pull(feed))
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

    def nightly(self, now: datetime, at: clock_time, tz: ZoneInfo) -> RunResult | None:
        """The scheduled nurture when it is due (None when not): once a night, however many
        runners find it due at the same moment."""
        day = job_runs.tonight(now, at, tz)
        if day is None or not self.nightly_due(now, at, tz):
            return None
        return self.nurture(night=day)

    def nightly_due(self, now: datetime, at: clock_time, tz: ZoneInfo) -> bool:
        """Past tonight's time where the business is, and no nurture run yet on that date."""
        day = job_runs.tonight(now, at, tz)
        if day is None:
            return False
        with self.read() as session:
            return not job_runs.nurture_ran_on(session, day, tz)

    def register(self, me: runners.Me) -> None:
        """Take this runner's name (see `automation.runners` for why one process per name);
        a clear error while another live runner has it."""
        with self.write() as session:
            holder = runners.register(session, me)
        if holder is not None and runners.gone_from_here(holder, me):
            with self.write() as session:
                holder = runners.register(session, me, take_over=True)
        if holder is not None:
            raise UserError(
                f"a runner named {holder.name!r} is already running (pid {holder.pid} on "
                f"{holder.host}); give this one another name with SALESENGINE_RUNNER_NAME, "
                "or stop that one"
            )

    def heartbeat(self, me: runners.Me) -> bool:
        """This runner is alive; False if its name was taken by another (it went quiet)."""
        with self.write() as session:
            return runners.heartbeat(session, me)

    def stopped(self, me: runners.Me) -> None:
        with self.write() as session:
            runners.stopped(session, me)

    def status(self) -> JobStatus:
        with self.read() as session:
            return job_status(session)
