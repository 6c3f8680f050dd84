"""`salesengine-jobs`: the scheduled loop and one-shot runs.

`status`; `once nurture|upsell|outbox` (run one job now; nurture and upsell are recorded in
job_runs, under the job's advisory lock); and `run`, the scheduled loop (`runner.py`).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from salesengine_tui.base.clock import Clock
from salesengine_tui.base.errors import UserError
from salesengine_tui.base.logfmt import one_line
from salesengine_tui.base.settings import load_settings
from salesengine_tui.db.connect import open_engine
from salesengine_tui.usecases import AppContext, Desk


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="salesengine-jobs", description="SalesEngine's headless jobs runner."
    )
    parser.add_argument("--database-url", metavar="URL", help="postgresql:// URL")
    parser.add_argument("--data-dir", metavar="DIR", type=Path)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    sub.add_parser("status", help="each job's last run and the outbox backlog")
    sub.add_parser("run", help="the scheduled loop: nurture nightly, upsell and outbox often")
    once = sub.add_parser("once", help="run one job now and exit")
    once.add_argument("job", choices=["nurture", "upsell", "outbox"])
    once.add_argument(
        "--dry-run", action="store_true", help="nurture: count what would be sent, change nothing"
    )
    return parser


def run_once(desk: Desk, job: str, dry_run: bool) -> int:
    """One job now. Exit codes: 0 done, 1 failed, 3 skipped (another runner holds it)."""
    if job == "outbox":
        return run_outbox(desk)
    result = desk.jobs.nurture(dry_run=dry_run) if job == "nurture" else desk.jobs.upsell()
    counts = ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in result.counts.items())
    print(f"{job}: {result.status}" + (f": {counts}" if counts else "")
          + (f" ({result.error})" if result.error else ""))  # fmt: skip
    return {"ok": 0, "skipped": 3}.get(result.status, 1)


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


def next_runs(settings) -> str:
    """When each job runs next under `salesengine-jobs run`."""
    from datetime import datetime, time, timedelta
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(settings.business_timezone)
    now = datetime.now(tz)
    at = time.fromisoformat(settings.nurture_at)
    tonight = now.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
    nightly = tonight if tonight > now else tonight + timedelta(days=1)
    return (
        f"next runs under `run`: nurture {nightly:%Y-%m-%d %H:%M %Z} (or at start-up if tonight's "
        f"was missed), upsell every minute, outbox every {settings.outbox_every_seconds} s"
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(database_url=args.database_url, data_dir=args.data_dir)
        engine = open_engine(settings, application_name="salesengine-jobs")
        try:
            if args.command == "run":
                from .runner import LogFormat, Runner

                handler = logging.StreamHandler(sys.stderr)
                handler.setFormatter(LogFormat())
                logging.basicConfig(level=logging.INFO, handlers=[handler])
                return Runner(engine, settings).run()
            desk = Desk(AppContext(engine, Clock(), settings, actor=None))
            if args.command == "once":
                return run_once(desk, args.job, args.dry_run)
            report = desk.jobs.status()
        finally:
            engine.dispose()
    except UserError as exc:
        print(f"salesengine-jobs: error: {exc}", file=sys.stderr)
        return 1
    if not report.last_runs:
        print("no job has run yet")
    for run in report.last_runs:
        finished = run.finished_at.isoformat() if run.finished_at else "running"
        print(f"{run.job:<10} {run.status:<8} started {run.started_at.isoformat()}  {finished}")
    print(f"outbox backlog: {report.outbox_backlog} queued")
    print(next_runs(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
