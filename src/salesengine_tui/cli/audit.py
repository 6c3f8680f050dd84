"""`salesengine audit`: the audit trail PostgreSQL keeps of what persons and the jobs changed
(who, when, what, from where), newest first. Managers only."""

from __future__ import annotations

import argparse
from datetime import timedelta

from .common import err, open_desk, positive_int


def add_parsers(sub: argparse._SubParsersAction) -> None:
    audit = sub.add_parser(
        "audit",
        help="the audit trail: who changed what, when and from where (managers)",
        description="What persons and the jobs changed, newest first, as the database recorded "
        "it (its triggers write the trail; no client can skip it): who, when, the table and "
        "row, the changed columns (old → new) and where from. Managers only; acting as: the "
        "global --user before `audit`, else SALESENGINE_USER, else the OS login.",
    )
    audit.add_argument(
        "--table", metavar="TABLE", help="only this table's changes (e.g. estimates)"
    )
    audit.add_argument("--user-login", metavar="LOGIN", help="only what this user changed")
    audit.add_argument("--days", type=positive_int, metavar="N", help="only the last N days")
    audit.add_argument(
        "--limit", type=positive_int, default=100, metavar="N", help="at most N rows (100)"
    )


def cmd_audit(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from ..ui.display import local_datetime, safe_text

    with open_desk(args, acting=True) as desk:
        since = None if args.days is None else desk.ctx.clock.now() - timedelta(days=args.days)
        entries = desk.audit.recent(
            table=args.table, login=args.user_login, since=since, limit=args.limit
        )
        tz = desk.audit.tz
    if not entries:
        err.print("no changes recorded" + (" that match" if _filtered(args) else ""))
        return 0
    table = Table(box=None, highlight=False)
    for title in ("when", "who", "table", "row", "op", "what", "from"):
        # A narrow terminal wraps a cell, never cuts it: nothing recorded is hidden.
        table.add_column(title, overflow="fold")
    for entry in entries:
        table.add_row(
            local_datetime(entry.at, tz, zone=True),
            safe_text(entry.who),
            safe_text(entry.table),
            safe_text(entry.row_id),
            entry.op,
            safe_text(entry.summary()),
            safe_text(entry.where),
        )
    Console(highlight=False).print(table)
    return 0


def _filtered(args: argparse.Namespace) -> bool:
    return any(v is not None for v in (args.table, args.user_login, args.days))
