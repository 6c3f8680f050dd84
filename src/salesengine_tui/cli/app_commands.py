"""Opening the app: `salesengine` (no command) and `salesengine demo`."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from ..base.clock import Clock
from ..base.errors import UserError
from .common import err, open_desk, positive_int
from .keys import report_problems

if TYPE_CHECKING:  # imports kept lazy for start-up time
    from sqlalchemy import Engine

DEMO_LOGIN = "demo"


def add_parsers(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser("demo", help="load demo data if the database is empty and open the app")
    demo.add_argument("--customers", type=positive_int, default=5000)
    demo.add_argument("--seed", type=int, default=42)


def require_terminal() -> None:
    # Textual reads keys from stdin and draws on stderr. Without a terminal (`ssh host` with no
    # pty, or sftp to a forced command) it would draw into a pipe and outlive the client.
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        raise UserError("the app needs a terminal (over SSH, connect with `ssh -t`)")


def _run_tui(args: argparse.Namespace, *, demo: bool) -> int:
    if demo:  # seeded as the database's owner; the app then runs as the person
        from ..db.demo import database_is_empty

        with open_desk(args, auto_migrate=True, admin=True) as admin:
            if database_is_empty(admin.ctx.engine):
                seed(admin.ctx.engine, args.customers, args.seed)
    with open_desk(args, acting=True, default_login=DEMO_LOGIN if demo else None) as desk:
        require_terminal()
        # Textual is imported only once we know the app will open (fast, clean failures).
        from ..app import SalesEngineApp

        app = SalesEngineApp(desk.ctx)
        report_problems(app.keymap_problems)  # the [keymap] entries left out (a toast too)
        app.run()
    return 0


def cmd_open(args: argparse.Namespace) -> int:
    return _run_tui(args, demo=False)


def cmd_demo(args: argparse.Namespace) -> int:
    # The demo's blasts need the compliance settings to send; a real install sets its own.
    os.environ.setdefault("SALESENGINE_COMPANY_POSTAL_ADDRESS", "100 Demo Way, Dallas TX 75201")
    os.environ.setdefault("SALESENGINE_UNSUBSCRIBE_URL", "https://example.com/unsubscribe")
    return _run_tui(args, demo=True)


def seed(engine: Engine, customers: int, seed_value: int) -> None:
    from rich.progress import Progress

    from ..db.demo import seed_demo

    with Progress(console=err, transient=True) as progress:
        tasks: dict[str, int] = {}

        def report(table: str, done: int, total: int) -> None:
            if table not in tasks:
                tasks[table] = progress.add_task(f"seeding {table}", total=total)
            progress.update(tasks[table], completed=done)

        result = seed_demo(
            engine, customers=customers, seed=seed_value, clock=Clock(), progress=report
        )
    err.print(
        f"seeded {result.total_rows:,} rows in {result.elapsed_seconds:.1f} s "
        f"({result.rows_per_second:,.0f} rows/s)"
    )
