"""`salesengine-jobs run`: the scheduled loop.

`schedule` keeps the cadence (upsell and task reminders every minute, the outbox every few
seconds, the providers' suppressions every `suppressions_every_minutes`, a nightly check every
minute); what `schedule` gets wrong is handled here:
- a job that raises is logged and tried again at its next tick: each job runs in a wrapper
  that never raises, so `schedule` neither dies nor re-fires it on every loop;
- a long job does not starve the others: each runs in its own thread, and a tick that finds
  its job still running skips it;
- the nightly nurture is due when the business's local time has passed the configured time and
  no nurture has run yet on that local date (from `job_runs`): a night missed while the runner
  was down runs once at start-up (and says so), and a daylight-saving change can neither skip
  nor double a night;
- SIGTERM stops the loop: running jobs finish their current step and the process exits 0.

Several runners (one per machine) share one database: each registers under its name
(`runner_name`, else the host name; a second live runner of the same name is refused), beats
every HEARTBEAT, and marks itself stopped on a clean exit, so `salesengine-jobs status` shows
them all. Work is shared without doubles by the jobs' advisory transaction locks and leases
(`usecases.jobs`) and the outbox's SKIP LOCKED claims.

The connection budget: the engine keeps `jobs_pool_size` connections and may open one more per
job (`cli.py`: `max_overflow=len(JOBS)`); each job holds at most one connection at a time, and
the upsell listener is the process's one LISTEN connection (the desk's hub, on `listen_url`).
So at most `jobs_pool_size` + 1 (3 by default) when idle, plus one per running job.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from datetime import datetime
from datetime import time as clock_time
from zoneinfo import ZoneInfo

import schedule
from sqlalchemy import Engine

from salesengine_tui.activity.feed import UPSELL_CHANNEL
from salesengine_tui.base.clock import Clock
from salesengine_tui.base.errors import UserError
from salesengine_tui.base.logfmt import one_line, quote
from salesengine_tui.base.settings import Settings, load_settings
from salesengine_tui.usecases import AppContext, Desk
from salesengine_tui.usecases.jobs import HEARTBEAT, Me

log = logging.getLogger("salesengine.jobs")
LOG_FORMAT = "%(asctime)s level=%(levelname)s logger=%(name)s %(message)s"
# What `run` schedules: the engine may open one connection more than it keeps per job.
JOBS = ("nurture", "upsell", "tasks", "outbox", "suppressions")


class LogFormat(logging.Formatter):
    """`key=value` lines, one per record: values are quoted where they are logged
    (`logfmt.quote`), and whatever a message still holds in control characters is escaped
    here, so no text from elsewhere can start a line of its own."""

    def __init__(self) -> None:
        super().__init__(LOG_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = one_line(record.message)
        return super().formatMessage(record)


def nightly_due(engine: Engine, now: datetime, at: clock_time, tz: ZoneInfo) -> bool:
    """Past tonight's time where the business is, and no nurture run yet on that date (one
    check outside a runner, which asks its own desk)."""
    desk = Desk(AppContext(engine, Clock(), load_settings(), actor=None))
    return desk.jobs.nightly_due(now, at, tz)


class Runner:
    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        clock: Clock | None = None,
        *,
        listen: bool = True,
        heartbeat: float = HEARTBEAT.total_seconds(),
    ) -> None:
        self.desk = Desk(AppContext(engine, clock or Clock(), settings, actor=None))
        self.settings = settings
        self.clock = self.desk.ctx.clock
        self.tz = ZoneInfo(settings.business_timezone)
        self.nightly_at = clock_time.fromisoformat(settings.nurture_at)
        self.stopping = threading.Event()
        self.listening = threading.Event()  # set once the upsell listener is connected
        self.running: dict[str, threading.Thread | None] = {}
        self._launching = threading.Lock()
        self._again: set[str] = set()  # woken while running: once more when it ends
        self.scheduler = schedule.Scheduler()
        self.listen = listen
        self.heartbeat_seconds = heartbeat
        self.me: Me | None = None  # set once registered
        self.job_names: tuple[str, ...] = ()

    # --- the jobs ---------------------------------------------------------------------

    def _nightly_due(self) -> bool:
        return self.desk.jobs.nightly_due(self.clock.now(), self.nightly_at, self.tz)

    def _nurture(self) -> None:
        result = self.desk.jobs.nightly(self.clock.now(), self.nightly_at, self.tz)
        if result is None:  # not due
            return
        log.info(
            "event=done job=nurture status=%s counts=%s", quote(result.status), quote(result.counts)
        )

    def _upsell(self) -> None:
        result = self.desk.jobs.upsell()
        counts = result.counts
        if counts.get("watermark_set"):  # the first run: what closed before it is history
            log.info("event=watermark job=upsell at=%s", quote(counts["watermark"].isoformat()))
        if counts.get("opportunities"):
            made = {k: counts[k] for k in ("opportunities", "notifications", "emails")}
            log.info("event=done job=upsell counts=%s", quote(made))

    def _tasks(self) -> None:
        result = self.desk.tasks.remind_due()
        if result.counts.get("reminded"):
            log.info("event=done job=tasks counts=%s", quote(result.counts))

    def _outbox(self) -> None:
        report = self.desk.email.drain(should_stop=self.stopping.is_set)
        if report.sent or report.failed or report.retried:
            log.info(
                "event=done job=outbox sent=%d failed=%d suppressed=%d retrying=%d",
                report.sent, report.failed, report.suppressed, report.retried,
            )  # fmt: skip
        if report.stopped:
            log.error("event=stopped job=outbox reason=%s", quote(report.stopped))

    def _suppressions(self) -> None:
        result = self.desk.jobs.suppressions()
        for feed in result.counts.get("feeds", []):
            if feed["error"]:  # its mark stays: the next run asks again from the same point
                log.error(
                    "event=failed job=suppressions feed=%s error=%s",
                    quote(feed["label"]), quote(feed["error"]),
                )  # fmt: skip
            elif feed["new"] or feed["unreadable"]:
                log.info(
                    "event=done job=suppressions feed=%s new=%d suppressed=%d opted_out=%d "
                    "unreadable=%d",
                    quote(feed["label"]), feed["new"], feed["suppressed"], feed["opted_out"],
                    feed["unreadable"],
                )  # fmt: skip

    # --- the loop -------------------------------------------------------------------------

    def _launch(self, name: str, job: Callable[[], None], *, again: bool = False) -> None:
        """Start `job` in its own thread unless it is still running; never raise. `again`
        (a wake-up): if it is running, run it once more when it ends, since it may have read
        before what woke it."""
        if self.stopping.is_set():
            return
        with self._launching:
            current = self.running.get(name)
            if current is not None and current.is_alive():
                if again:
                    self._again.add(name)
                else:
                    log.info('event=skip job=%s reason="still running from the last tick"', name)
                return

            def guarded() -> None:
                while True:
                    try:
                        job()
                    except Exception as exc:  # logged; the job runs again at its next tick
                        log.error(
                            "event=error job=%s error=%s",
                            name, quote(f"{type(exc).__name__}: {exc}"),
                        )  # fmt: skip
                    with self._launching:
                        if name not in self._again or self.stopping.is_set():
                            self._again.discard(name)
                            self.running[name] = None  # done: the next launch starts afresh
                            return
                        self._again.discard(name)

            thread = threading.Thread(target=guarded, name=f"job-{name}", daemon=True)
            self.running[name] = thread
            thread.start()

    def schedule_jobs(
        self, jobs: dict[str, tuple[float, Callable[[], None]]] | None = None
    ) -> None:
        every = {
            "nurture": (60, self._nurture),
            "upsell": (60, self._upsell),
            "tasks": (60, self._tasks),
            "outbox": (self.settings.outbox_every_seconds, self._outbox),
            "suppressions": (self.settings.suppressions_every_minutes * 60, self._suppressions),
        }
        jobs = jobs or {name: every[name] for name in JOBS}
        self.job_names = tuple(jobs)
        for name, (seconds, job) in jobs.items():
            self.scheduler.every(seconds).seconds.do(self._launch, name, job)

    def _listen_for_closed_tickets(self) -> None:
        """Wake the upsell sync when a ticket closes as end of life (a trigger's NOTIFY)."""

        def heard(_payload: str) -> None:
            self._launch("upsell", self._upsell, again=True)

        self.desk.jobs.listen_on(
            UPSELL_CHANNEL, heard, self.stopping, on_connected=self.listening.set
        )

    def _register(self) -> bool:
        """Take this runner's name; False (logged) when a live runner already has it."""
        me = Me.here(self.settings, self.job_names)
        try:
            self.desk.jobs.register(me)
        except UserError as exc:
            log.error("event=refused reason=%s", quote(str(exc)))
            return False
        self.me = me
        log.info("event=registered runner=%s pid=%d", quote(me.name), me.pid)
        return True

    def _beat(self) -> None:
        """The heartbeat, from the loop (one UPDATE); a runner whose name was taken while it
        was quiet (paused, cut off) stops rather than run beside the new one."""
        assert self.me is not None
        try:
            still_mine = self.desk.jobs.heartbeat(self.me)
        except Exception as exc:  # the database is away: the next beat tries again
            log.error("event=error job=heartbeat error=%s", quote(f"{type(exc).__name__}: {exc}"))
            return
        if not still_mine:
            log.error(
                'event=displaced runner=%s reason="another runner took this name while this '
                'one was quiet"',
                quote(self.me.name),
            )
            self.me = None  # not ours to mark stopped
            self.stopping.set()

    def run(self, *, tick: float = 0.5, ticks: int | None = None) -> int:
        """The loop; returns the exit code. `ticks` bounds it (tests)."""
        if threading.current_thread() is threading.main_thread():  # signals go to the main one
            signal.signal(signal.SIGTERM, lambda *_: self.stopping.set())
        if not self.scheduler.jobs:
            self.schedule_jobs()
        if not self._register():
            return 1
        log.info("event=start nightly=%s tz=%s", self.nightly_at, self.tz)
        if self._nightly_due():
            log.info('event=catch-up job=nurture reason="tonight\'s run has not happened yet"')
        self.scheduler.run_all()  # every job once at start-up (the nightly one checks its date)
        if self.listen:
            threading.Thread(
                target=self._listen_for_closed_tickets, name="upsell-listener", daemon=True
            ).start()
        count = 0
        beat_at = time.monotonic() + self.heartbeat_seconds
        while not self.stopping.is_set() and (ticks is None or count < ticks):
            self.scheduler.run_pending()
            if time.monotonic() >= beat_at:
                self._beat()
                beat_at = time.monotonic() + self.heartbeat_seconds
            self.stopping.wait(tick)
            count += 1
        self.stopping.set()  # also ends the listener and an outbox drain in progress
        waiting = ",".join(n for n, t in self.running.items() if t and t.is_alive())
        log.info("event=stopping waiting_for=%s", quote(waiting))
        for thread in list(self.running.values()):
            if thread is not None:
                thread.join()
        displaced = self.me is None
        if self.me is not None:
            try:
                self.desk.jobs.stopped(self.me)
            except Exception as exc:  # status will show it gone quiet instead
                log.error("event=error job=stop error=%s", quote(f"{type(exc).__name__}: {exc}"))
        log.info("event=stopped")
        return 1 if displaced else 0
