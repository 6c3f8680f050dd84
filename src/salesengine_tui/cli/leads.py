"""`salesengine leads`: import leads from CSV, export customers to CSV."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import err, open_desk

PROBLEMS_SHOWN = 50


def add_parsers(sub: argparse._SubParsersAction) -> None:
    leads = sub.add_parser("leads", help="leads: import from CSV, export to CSV")
    leads_sub = leads.add_subparsers(dest="leads_command", metavar="ACTION", required=True)
    imp = leads_sub.add_parser(
        "import", help="import leads from a CSV file (all good rows in one transaction)"
    )
    imp.add_argument("file", type=Path)
    imp.add_argument("--source", help="lead source for rows that name none")
    imp.add_argument("--owner", metavar="LOGIN", help="owner of the imported leads")
    imp.add_argument("--dry-run", action="store_true", help="check the file, import nothing")
    exp = leads_sub.add_parser("export", help="write customers as CSV to standard output")
    exp.add_argument(
        "--status", choices=["lead", "active", "churned"], help="only customers with this status"
    )


def cmd_leads(args: argparse.Namespace) -> int:
    from rich.progress import Progress

    from ..db.models import CustomerStatus

    # An import acts as the person at the keyboard (the role rules decide `--owner`); an
    # export reads what every role sees in the app, and needs no user.
    with open_desk(args, acting=args.leads_command == "import") as desk:
        if args.leads_command == "export":
            status = CustomerStatus(args.status) if args.status else None
            count = desk.leads.export_csv(sys.stdout, status=status)
            err.print(f"exported {count:,} customers")
            return 0
        with Progress(console=err, transient=True) as bar:
            tasks: dict[str, int] = {}

            def progress(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(stage, total=total or None)
                bar.update(tasks[stage], completed=done, total=total or None)

            report = desk.leads.import_csv(
                args.file,
                source=args.source,
                owner_login=args.owner,
                dry_run=args.dry_run,
                progress=progress,
            )
    problems = sorted(report.invalid + report.duplicates, key=lambda p: p.line)
    for problem in problems[:PROBLEMS_SHOWN]:
        print(f"{args.file}:{problem.line}: {problem.message}", file=sys.stderr)
    total = report.invalid_count + report.duplicate_count
    if total > PROBLEMS_SHOWN:
        print(f"... and {total - PROBLEMS_SHOWN:,} more", file=sys.stderr)
    verb = "would import" if args.dry_run else "imported"
    print(
        f"{report.rows:,} rows: {verb} {report.imported:,}, "
        f"{report.duplicate_count:,} duplicates skipped, {report.invalid_count:,} invalid"
    )
    return 0
