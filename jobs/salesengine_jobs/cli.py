"""`salesengine-jobs`: the scheduled loop and one-shot runs.

`status` (every runner seen, each job's last run and which runner did it, the outbox backlog);
`once nurture|upsell|outbox|tasks|suppressions` (run one job now; nurture, upsell,
tasks (the reminders of timed tasks that fell due) and suppressions (the providers' bounces,
complaints and unsubscribes since the last pull) are recorded in job_runs, under the job's
transaction-scoped advisory lock (the suppression pull, which spans transactions, under a lease
row); `once upsell --backfill-since DATE` turns the history before the upsell
watermark into opportunities); `run`, the scheduled loop (`runner.py`); and
`serve [--host H --port P]`, the outreach service (`service/`: unsubscribe links and the
providers' webhooks).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from salesengine_tui.base.clock import Clock
from salesengine_tui.base.errors import UserError
from salesengine_tui.base.logfmt import one_line
from salesengine_tui.base.settings import Settings, load_settings
from salesengine_tui.db.connect import open_engine
from salesengine_tui.db.roles import JOBS_ROLE
from salesengine_tui.ui.display import local_datetime, plural, visible
from salesengine_tui.usecases import AppContext, Desk

if TYPE_CHECKING:
    from salesengine_tui.automation.jobs_status import JobStatus, LastRun
    from salesengine_tui.automation.runners import RunnerSeen
    from salesengine_tui.usecases.jobs import RunResult


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="salesengine-jobs", description="SalesEngine's headless jobs runner."
    )
    parser.add_argument("--database-url", metavar="URL", help="postgresql:// URL")
    parser.add_argument("--data-dir", metavar="DIR", type=Path)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    sub.add_parser(
        "status", help="every runner, each job's last run and which runner did it, the backlog"
    )
    sub.add_parser(
        "run", help="the scheduled loop: nurture nightly; upsell, task reminders, outbox often"
    )
    once = sub.add_parser("once", help="run one job now and exit")
    once.add_argument("job", choices=["nurture", "upsell", "outbox", "tasks", "suppressions"])
    once.add_argument(
        "--dry-run", action="store_true", help="nurture: count what would be sent, change nothing"
    )
    once.add_argument(
        "--backfill-since",
        metavar="DATE",
        type=backfill_date,
        help="upsell: end-of-life tickets closed since DATE (YYYY-MM-DD) and before the "
        "watermark become opportunities; one summary per manager, no email",
    )
    serve = sub.add_parser(
        "serve",
        help="the outreach service: unsubscribe links and the email providers' webhooks "
        "(behind a TLS reverse proxy)",
    )
    serve.add_argument("--host", help="address to listen on (default: serve_host, 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default: serve_port, 8025)")
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="service processes (default 1; 2 uses both cores of a two-core machine)",
    )
    return parser


def run_once(desk: Desk, job: str, dry_run: bool, backfill_since: date | None = None) -> int:
    """One job now. Exit codes: 0 done, 1 failed, 3 skipped (another runner holds it)."""
    if backfill_since is not None and job != "upsell":
        raise UserError("--backfill-since goes with `once upsell`")
    if job == "outbox":
        return run_outbox(desk)
    if job == "upsell":
        return run_upsell(desk, backfill_since)
    if job == "tasks":
        return run_tasks(desk)
    if job == "suppressions":
        return run_suppressions(desk)
    result = desk.jobs.nurture(dry_run=dry_run)
    print(nurture_line(result, dry_run))
    return {"ok": 0, "skipped": 3}.get(result.status, 1)


def nurture_line(result: RunResult, dry_run: bool) -> str:
    """What the nurture run did, in words; a dry run says what it would do, and that it
    changed nothing."""
    head = f"{result.job}: {result.status}"
    if result.status != "ok":
        return head + (f" ({result.error})" if result.error else "")
    emails = plural(result.counts["emails"], "follow-up email")
    notices = plural(result.counts["call_instead"], '"call instead" notice')
    if dry_run:
        return f"{head}: would queue {emails} and send {notices}; nothing was queued or sent"
    return f"{head}: queued {emails}, sent {notices}"


def run_tasks(desk: Desk) -> int:
    """Timed tasks that fell due: one notification each to the assignee."""
    result = desk.tasks.remind_due()
    c = result.counts
    detail = (
        f": {c['reminded']:,} tasks fell due, {c['notifications']:,} notifications"
        if result.status == "ok"
        else (f" ({result.error})" if result.error else "")
    )
    print(f"tasks: {result.status}{detail}")
    return {"ok": 0, "skipped": 3}.get(result.status, 1)


def run_suppressions(desk: Desk) -> int:
    """The providers' suppressions since the last pull: one line per feed."""
    result = desk.jobs.suppressions()
    for line in suppression_lines(result):
        print(line)
    return {"ok": 0, "skipped": 3}.get(result.status, 1)


def suppression_lines(result: RunResult) -> list[str]:
    """`postmark bounces: 12 new, 3 already known; suppressed 9, opted out 0` per feed; a feed
    that failed says why (its mark stays: the next run asks again from the same point)."""
    feeds = result.counts.get("feeds")
    if result.status == "skipped" or feeds is None:
        return [f"{result.job}: {result.status}" + (f" ({result.error})" if result.error else "")]
    if not feeds:
        return [f"{result.job}: {result.status}: no provider to pull from"]
    lines = []
    for feed in feeds:
        if feed["error"]:
            lines.append(f"{feed['label']}: failed: {one_line(feed['error'])}")
            continue
        known = feed["received"] - feed["new"]
        line = (
            f"{feed['label']}: {feed['new']:,} new, {known:,} already known; suppressed "
            f"{feed['suppressed']:,}, opted out {feed['opted_out']:,}"
        )
        if feed["unreadable"]:
            line += f" ({feed['unreadable']:,} {'item' if feed['unreadable'] == 1 else 'items'}"
            line += " could not be read)"
        lines.append(line)
    return lines


def backfill_date(text: str) -> date:
    """`--backfill-since`'s value: a calendar date (whether it is past is the use case's rule)."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a date as YYYY-MM-DD (e.g. 2026-01-31), got {text!r}"
        ) from None


def run_upsell(desk: Desk, backfill_since: date | None) -> int:
    """The upsell sync, or a backfill of history: what it did, and where the watermark is."""
    if backfill_since is None:
        result = desk.jobs.upsell()
    else:
        result = desk.jobs.upsell_backfill(backfill_since)
    print(upsell_line(result, desk.jobs.tz, backfill_since))
    return {"ok": 0, "skipped": 3}.get(result.status, 1)


def upsell_line(result: RunResult, tz: ZoneInfo, since: date | None) -> str:
    """`upsell: ok: ...` in words: the watermark, and what came from history or after it."""
    head = f"{result.job}: {result.status}"
    if result.status != "ok":
        return head + (f" ({result.error})" if result.error else "")
    c = result.counts
    mark = local_datetime(c["watermark"], tz, zone=True)
    made = f"{c['opportunities']:,} {'opportunity' if c['opportunities'] == 1 else 'opportunities'}"
    if since is not None:
        return (
            f"{head}: {made} from tickets closed since {since.isoformat()} (before the watermark, "
            f"{mark}); summary notifications {c['notifications']:,}, emails {c['emails']:,}"
        )
    counts = (
        f"opportunities {c['opportunities']:,}, notifications {c['notifications']:,}, "
        f"emails {c['emails']:,}"
    )
    if c["watermark_set"]:
        return (
            f"{head}: watermark set at {mark}; 0 opportunities from history (tickets closed "
            f"before it; --backfill-since DATE turns them into opportunities); since it: {counts}"
        )
    return f"{head}: {counts} (tickets closed since the watermark, {mark})"


def run_outbox(desk: Desk) -> int:
    report = desk.email.drain()
    print(
        f"outbox: sent {report.sent:,}, failed {report.failed:,}, suppressed "
        f"{report.suppressed:,}, retrying {report.retried:,}"
        + (f", recovered {report.recovered:,} from a stopped sender" if report.recovered else "")
    )
    if report.stopped:
        print(f"salesengine-jobs: stopped: {one_line(report.stopped)}", file=sys.stderr)
        return 1
    return 0


def next_runs(settings: Settings, now: datetime) -> str:
    """When each job runs next under `salesengine-jobs run`."""
    tz = ZoneInfo(settings.business_timezone)
    local = now.astimezone(tz)
    at = time.fromisoformat(settings.nurture_at)
    tonight = local.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
    nightly = tonight if tonight > local else tonight + timedelta(days=1)
    return (
        f"next runs under `run`: nurture {local_datetime(nightly, tz, zone=True)} (or at "
        "start-up if tonight's "
        f"was missed), upsell and task reminders every minute, outbox every "
        f"{settings.outbox_every_seconds} s, suppressions every "
        f"{settings.suppressions_every_minutes} min"
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(database_url=args.database_url, data_dir=args.data_dir)
        app_name = "salesengine-serve" if args.command == "serve" else "salesengine-jobs"
        if args.command == "run":  # the budget: jobs_pool_size kept, one more per job
            from .runner import JOBS

            engine = open_engine(
                settings,
                application_name=app_name,
                pool_size=settings.jobs_pool_size,
                max_overflow=len(JOBS),
                embedded_role=JOBS_ROLE,
            )
        elif args.command == "serve":
            from .service.serve import POOL

            engine = open_engine(
                settings, application_name=app_name, embedded_role=JOBS_ROLE, **POOL
            )
        else:
            engine = open_engine(settings, application_name=app_name, embedded_role=JOBS_ROLE)
        try:
            if args.command == "run":
                from .runner import LogFormat, Runner

                handler = logging.StreamHandler(sys.stderr)
                handler.setFormatter(LogFormat())
                logging.basicConfig(level=logging.INFO, handlers=[handler])
                return Runner(engine, settings).run()
            desk = Desk(AppContext(engine, Clock(), settings, actor=None))
            if args.command == "serve":
                from .service.serve import serve  # Starlette and uvicorn: only here

                port = settings.serve_port if args.port is None else args.port
                return serve(desk, args.host or settings.serve_host, port, max(1, args.workers))
            if args.command == "once":
                return run_once(desk, args.job, args.dry_run, args.backfill_since)
            report = desk.jobs.status()
        finally:
            engine.dispose()
    except UserError as exc:
        print(f"salesengine-jobs: error: {exc}", file=sys.stderr)
        return 1
    for line in status_lines(report, desk.jobs.tz):
        print(line)
    print(next_runs(settings, desk.jobs.now()))
    return 0


def status_lines(report: JobStatus, tz: ZoneInfo) -> list[str]:
    """Each job's last run (when it started, in the business's time, how long it took and
    which runner did it), the outbox backlog, then every runner seen."""
    lines = job_lines(report.last_runs, tz)
    lines.append(f"outbox backlog: {report.outbox_backlog:,} queued")
    return lines + runner_lines(report.runners, tz)


def job_lines(runs: list[LastRun], tz: ZoneInfo) -> list[str]:
    if not runs:
        return ["no job has run yet"]
    by = [visible(run.runner) if run.runner else "-" for run in runs]
    width = max(len(run.job) for run in runs)
    by_width = max(len("runner"), *(len(name) for name in by))
    lines = [f"{'job':<{width}}  {'status':<8}  {'runner':<{by_width}}  last started"]
    for run, name in zip(runs, by, strict=True):
        started = local_datetime(run.started_at, tz, zone=True)
        lines.append(
            f"{run.job:<{width}}  {run.status:<8}  {name:<{by_width}}  {started}, {took(run)}"
        )
    return lines


def runner_lines(runners: list[RunnerSeen], tz: ZoneInfo) -> list[str]:
    """`host-a  running  pid 4121 on host-a  since 2026-12-01 02:00 CST, last seen ...`: one
    line per runner ever registered (a runner gone quiet has not beaten for 90 s: it died or
    lost the database)."""
    if not runners:
        return ["no runner has registered yet (`salesengine-jobs run` registers)"]
    names = [visible(r.name) for r in runners]
    width = max(len("runner"), *(len(name) for name in names))
    lines = [f"{'runner':<{width}}  {'state':<10}  process, since, last seen"]
    for runner, name in zip(runners, names, strict=True):
        since = local_datetime(runner.started_at, tz, zone=True)
        seen = local_datetime(runner.seen_at, tz, zone=True)
        ended = "stopped" if runner.state == "stopped" else "last seen"
        lines.append(
            f"{name:<{width}}  {runner.state:<10}  pid {runner.pid} on {visible(runner.host)}, "
            f"since {since}, {ended} {seen}"
        )
    return lines


def took(run: LastRun) -> str:
    """`took 3 s`, `took 2 min`, `took 1 h 5 min`; `still running`."""
    if run.finished_at is None:
        return "still running"
    seconds = max(0, round((run.finished_at - run.started_at).total_seconds()))
    if seconds < 60:
        return f"took {seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"took {minutes} min"
    return f"took {minutes // 60} h {minutes % 60} min"


if __name__ == "__main__":
    sys.exit(main())
