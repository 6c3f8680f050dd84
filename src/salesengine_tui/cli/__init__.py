"""`salesengine`: the TUI, the demo, database and user administration.

Every failure a person can fix is one line on stderr and a non-zero exit code, never a traceback.
One module per group of commands; each adds its parsers and runs through one Desk.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from sqlalchemy.exc import InterfaceError, OperationalError

from ..base.errors import UserError
from ..ui.display import visible_lines
from . import app_commands, audit, db_commands, keys, leads, operations, segments, tasks, users
from .common import add_global_flags

EXIT_ERROR = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="salesengine",
        description="SalesEngine: the sales desk in your terminal. With no command, opens the app.",
    )
    add_global_flags(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add_parsers in (
        app_commands.add_parsers,
        db_commands.add_parsers,
        users.add_parsers,
        operations.add_tickets_parsers,
        segments.add_parsers,
        operations.add_unsubscribe_parsers,
        leads.add_parsers,
        tasks.add_parsers,
        keys.add_parsers,
        audit.add_parsers,
    ):
        add_parsers(sub)
    return parser


COMMANDS: dict[str | None, Callable[[argparse.Namespace], int]] = {
    None: app_commands.cmd_open,
    "demo": app_commands.cmd_demo,
    "db": db_commands.cmd_db,
    "users": users.cmd_users,
    "leads": leads.cmd_leads,
    "unsubscribe": operations.cmd_unsubscribe,
    "tickets": operations.cmd_tickets,
    "segments": segments.cmd_segments,
    "tasks": tasks.cmd_tasks,
    "keys": keys.cmd_keys,
    "audit": audit.cmd_audit,
}


def _fail(message: str) -> int:
    # Plain print: one line stays one line whatever the terminal width.
    print(f"salesengine: error: {visible_lines(message)}", file=sys.stderr)  # data: shown
    return EXIT_ERROR


def _migration_error(exc: Exception) -> bool:
    # Alembic is imported only by commands that migrate (half a second the app's start need not
    # pay); an error cannot be Alembic's unless Alembic was imported.
    util = sys.modules.get("alembic.util")
    return util is not None and isinstance(exc, util.CommandError)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except UserError as exc:
        return _fail(str(exc))
    except (OperationalError, InterfaceError) as exc:
        # The server went away after we connected. Driver messages carry no password.
        first = str(getattr(exc, "orig", exc)).strip().splitlines() or [type(exc).__name__]
        return _fail(f"lost the connection to PostgreSQL: {first[0]}")
    except Exception as exc:
        if _migration_error(exc):
            return _fail(f"migration: {exc}")
        raise
    except KeyboardInterrupt:
        return 130
