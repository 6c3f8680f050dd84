"""`salesengine-jobs run`: the scheduled loop.

`schedule` keeps the cadence (upsell every minute, the outbox every few seconds, a nightly
check every minute); what `schedule` gets wrong is handled here:
- a job that raises is logged and tried again at its next tick: each job runs in a wrapper
  that never raises, so `schedule` neither dies nor re-fires it on every loop;
- a long job does not starve the others: each runs in its own thread, and a tick that finds
  its job still running skips it;
- the nightly nurture is due when the business's local time has passed the configured time and
  no nurture has run yet on that local date (from `job_runs`): a night missed while the runner
  was down runs once at start-up (and says so), and a daylight-saving change can neither skip
  nor double a night;
- SIGTERM stops the loop: running jobs finish their current step and the process exits 0.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import datetime
from datetime import time as clock_time
from zoneinfo import ZoneInfo

import schedule
import sqlalchemy as sa
from sqlalchemy import Engine

from salesengine_tui import live, nurture, upsell
from salesengine_tui.clock import Clock
from salesengine_tui.email_sender import drain, make_provider
from salesengine_tui.job_runs import run_job
from salesengine_tui.settings import Settings

log = logging.getLogger("salesengine.jobs")
UPSELL_CHANNEL = "salesengine_upsell"  # NOTIFYed by a trigger on tickets (migration 0008)


def nightly_due(engine: Engine, now: datetime, at: clock_time, tz: ZoneInfo) -> bool:
    """Past tonight's time where the business is, and no nurture run yet on that date."""
    local = now.astimezone(tz)
    if local.time() < at:
        return False
    with engine.connect() as conn:
        ran = conn.execute(
            sa.text(
                "SELECT EXISTS (SELECT 1 FROM job_runs WHERE job = 'nurture' "
                "AND status IN ('ok', 'running') "
                "AND (started_at AT TIME ZONE :tz)::date = :day)"
            ),
            {"tz": str(tz), "day": local.date()},
        ).scalar_one()
    return not ran


class Runner:
    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        clock: Clock | None = None,
        *,
        listen: bool = True,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock or Clock()
        self.tz = ZoneInfo(settings.business_timezone)
        self.nightly_at = clock_time.fromisoformat(settings.nurture_at)
        self.stopping = threading.Event()
        self.running: dict[str, threading.Thread] = {}
        self.scheduler = schedule.Scheduler()
        self.listen = listen

    # --- the jobs ---------------------------------------------------------------------

    def _nurture(self) -> None:
        if not nightly_due(self.engine, self.clock.now(), self.nightly_at, self.tz):
            return
        now = self.clock.now()
        result = run_job(
            self.engine,
            "nurture",
            lambda s: nurture.run(s, now=now).__dict__,
            clock=self.clock,
        )
        log.info("event=done job=nurture status=%s counts=%s", result.status, result.counts)

    def _upsell(self) -> None:
        now = self.clock.now()
        result = run_job(
            self.engine, "upsell", lambda s: upsell.sync(s, now=now).__dict__, clock=self.clock
        )
        if result.counts.get("opportunities"):
            log.info("event=done job=upsell counts=%s", result.counts)

    def _outbox(self) -> None:
        provider = make_provider(self.settings)
        try:
            report = drain(
                self.engine, provider, self.settings, clock=self.clock,
                should_stop=self.stopping.is_set,
            )  # fmt: skip
        finally:
            provider.close()
        if report.sent or report.failed or report.retried:
            log.info(
                "event=done job=outbox sent=%d failed=%d suppressed=%d retrying=%d",
                report.sent, report.failed, report.suppressed, report.retried,
            )  # fmt: skip
        if report.stopped:
            log.error("event=stopped job=outbox reason=%r", report.stopped)

    # --- the loop -------------------------------------------------------------------------

    def _launch(self, name: str, job: Callable[[], None]) -> None:
        """Start `job` in its own thread unless it is still running; never raise."""
        if self.stopping.is_set():
            return
        current = self.running.get(name)
        if current is not None and current.is_alive():
            log.info("event=skip job=%s reason='still running from the last tick'", name)
            return

        def guarded() -> None:
            try:
                job()
            except Exception as exc:  # logged; the job runs again at its next tick
                log.error("event=error job=%s error=%r", name, f"{type(exc).__name__}: {exc}")

        thread = threading.Thread(target=guarded, name=f"job-{name}", daemon=True)
        self.running[name] = thread
        thread.start()

    def schedule_jobs(
        self, jobs: dict[str, tuple[float, Callable[[], None]]] | None = None
    ) -> None:
        jobs = jobs or {
            "nurture": (60, self._nurture),
            "upsell": (60, self._upsell),
            "outbox": (self.settings.outbox_every_seconds, self._outbox),
        }
        for name, (seconds, job) in jobs.items():
            self.scheduler.every(seconds).seconds.do(self._launch, name, job)

    def _listen_for_closed_tickets(self) -> None:
        """Wake the upsell sync when a ticket closes as end of life (a trigger's NOTIFY)."""

        def heard(_payload: str) -> None:
            self._launch("upsell", self._upsell)

        live.listen(self.engine.url, UPSELL_CHANNEL, heard, self.stopping)

    def run(self, *, tick: float = 0.5, ticks: int | None = None) -> int:
        """The loop; returns the exit code. `ticks` bounds it (tests)."""
        if threading.current_thread() is threading.main_thread():  # signals go to the main one
            signal.signal(signal.SIGTERM, lambda *_: self.stopping.set())
        log.info("event=start nightly=%s tz=%s", self.nightly_at, self.tz)
        if not self.scheduler.jobs:
            self.schedule_jobs()
        if nightly_due(self.engine, self.clock.now(), self.nightly_at, self.tz):
            log.info("event=catch-up job=nurture reason='tonight's run has not happened yet'")
        self.scheduler.run_all()  # every job once at start-up (the nightly one checks its date)
        if self.listen:
            threading.Thread(
                target=self._listen_for_closed_tickets, name="upsell-listener", daemon=True
            ).start()
        count = 0
        while not self.stopping.is_set() and (ticks is None or count < ticks):
            self.scheduler.run_pending()
            self.stopping.wait(tick)
            count += 1
        self.stopping.set()  # also ends the listener and an outbox drain in progress
        log.info(
            "event=stopping waiting_for=%s", [n for n, t in self.running.items() if t.is_alive()]
        )
        for thread in self.running.values():
            thread.join()
        log.info("event=stopped")
        return 0
