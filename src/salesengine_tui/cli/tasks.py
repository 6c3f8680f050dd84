"""`salesengine tasks export`: a person's open tasks as an iCalendar file, for a phone's
calendar to subscribe to (serve the file, or rewrite it from cron)."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from ..base.errors import UserError
from .common import err, open_desk


def add_parsers(sub: argparse._SubParsersAction) -> None:
    tasks = sub.add_parser("tasks", help="tasks: export a person's open tasks as iCalendar")
    tasks_sub = tasks.add_subparsers(dest="tasks_command", metavar="ACTION", required=True)
    exp = tasks_sub.add_parser(
        "export",
        help="write a user's open tasks as an iCalendar (.ics) file",
        description="Write LOGIN's open tasks as iCalendar (RFC 5545): one event per task, "
        "all-day or timed, with a stable UID so a subscribed calendar updates in place. "
        "Managers export anyone's tasks; everyone else their own. Acting as: the global "
        "--user before `tasks`, else SALESENGINE_USER, else the OS login.",
    )
    # Its own dest: the global --user (before the command) says who is acting.
    exp.add_argument(
        "--user", dest="export_login", metavar="LOGIN", required=True, help="whose tasks"
    )
    exp.add_argument(
        "--ics",
        metavar="FILE",
        required=True,
        help="the file to write (replaced whole); - for stdout",
    )


def write_atomically(path: Path, text: str) -> None:
    """The whole file or nothing: a calendar fetching it mid-write never reads half of it."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise UserError(f"cannot write {path}: {folder} is not a folder")
    try:
        fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o644 & ~umask)  # readable like any file written here (mkstemp: 0600)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None


def cmd_tasks(args: argparse.Namespace) -> int:
    with open_desk(args, acting=True) as desk:
        calendar = desk.tasks.export_ics(args.export_login)
    if args.ics == "-":
        sys.stdout.buffer.write(calendar.text.encode("utf-8"))
        sys.stdout.flush()
    else:
        write_atomically(Path(args.ics), calendar.text)
    err.print(f"exported {calendar.count:,} open tasks of {args.export_login}", markup=False)
    return 0
