"""`salesengine-jobs`: the scheduled loop and one-shot runs.

For now: `status`, and `once outbox` (send what is queued, then exit). The scheduled loop and
the other jobs arrive with their own issue.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from salesengine_tui.db.connect import open_engine
from salesengine_tui.errors import UserError
from salesengine_tui.jobs_status import job_status
from salesengine_tui.settings import load_settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="salesengine-jobs", description="SalesEngine's headless jobs runner."
    )
    parser.add_argument("--database-url", metavar="URL", help="postgresql:// URL")
    parser.add_argument("--data-dir", metavar="DIR", type=Path)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    sub.add_parser("status", help="each job's last run and the outbox backlog")
    once = sub.add_parser("once", help="run one job now and exit")
    once.add_argument("job", choices=["outbox"])
    return parser


def run_outbox(engine, settings) -> int:
    from salesengine_tui.clock import Clock
    from salesengine_tui.email_sender import drain, make_provider

    provider = make_provider(settings)
    try:
        report = drain(engine, provider, settings, clock=Clock())
    finally:
        provider.close()
    print(
        f"outbox: sent {report.sent:,}, failed {report.failed:,}, suppressed "
        f"{report.suppressed:,}, retrying {report.retried:,}"
        + (f", recovered {report.recovered:,} from a stopped sender" if report.recovered else "")
    )
    if report.stopped:
        print(f"salesengine-jobs: stopped: {report.stopped}", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(database_url=args.database_url, data_dir=args.data_dir)
        engine = open_engine(settings, application_name="salesengine-jobs")
        try:
            if args.command == "once":
                return run_outbox(engine, settings)
            report = job_status(engine)
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
