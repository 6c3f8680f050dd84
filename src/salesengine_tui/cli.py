"""`salesengine`: the TUI, the demo, database and user administration.

Every failure a person can fix is one line on stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from alembic.util import CommandError as AlembicCommandError
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.exc import InterfaceError, OperationalError

from .clock import Clock
from .db.engine import session_scope
from .errors import UserError

EXIT_ERROR = 1
EXIT_USAGE = 2
DEMO_LOGIN = "demo"

err = Console(stderr=True, highlight=False)


def _add_global_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="postgresql:// URL (env SALESENGINE_DATABASE_URL); unset: the embedded database",
    )
    parser.add_argument(
        "--user", metavar="LOGIN", help="act as this user (env SALESENGINE_USER; default: OS login)"
    )
    parser.add_argument(
        "--data-dir", metavar="DIR", type=Path, help="where the embedded database lives"
    )
    parser.add_argument(
        "--config", metavar="FILE", type=Path, help="settings file (env SALESENGINE_CONFIG_FILE)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="salesengine",
        description="SalesEngine: the sales desk in your terminal. With no command, opens the app.",
    )
    _add_global_flags(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser("demo", help="load demo data if the database is empty and open the app")
    demo.add_argument("--customers", type=_positive_int, default=5000)
    demo.add_argument("--seed", type=int, default=42)

    db = sub.add_parser("db", help="database: upgrade, downgrade, current, seed")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = db_sub.add_parser("upgrade", help="apply the migrations (to the newest by default)")
    up.add_argument("revision", nargs="?", default="head")
    down = db_sub.add_parser("downgrade", help="undo migrations down to REVISION ('base': all)")
    down.add_argument("revision")
    db_sub.add_parser("current", help="show the database's migration revision")
    stamp = db_sub.add_parser(
        "stamp", help="mark an existing database as being at REVISION without running anything"
    )
    stamp.add_argument("revision")
    seed = db_sub.add_parser("seed", help="load deterministic demo data into an empty database")
    seed.add_argument("--customers", type=_positive_int, default=5000)
    seed.add_argument("--seed", type=int, default=42)

    users = sub.add_parser("users", help="users: add, list, ssh-key")
    users_sub = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    add = users_sub.add_parser("add", help="add a user")
    add.add_argument("login")
    add.add_argument("--name", required=True)
    add.add_argument("--role", required=True, choices=["rep", "manager", "technician"])
    add.add_argument("--email")
    users_sub.add_parser("list", help="list users")
    key = users_sub.add_parser(
        "ssh-key", help="SSH keys that open the app as one user (managers over SSH)"
    )
    key_sub = key.add_subparsers(dest="ssh_key_command", metavar="ACTION", required=True)
    key_add = key_sub.add_parser(
        "add", help="let the public key in KEYFILE open the app as LOGIN, and nothing else"
    )
    key_add.add_argument("login")
    key_add.add_argument("keyfile", type=Path, help="the public key, e.g. id_ed25519.pub")
    key_list = key_sub.add_parser("list", help="keys mapped to users")
    key_remove = key_sub.add_parser("remove", help="remove a user's keys, or one key")
    key_remove.add_argument("key", metavar="LOGIN|FINGERPRINT", help="a login or SHA256:...")
    for action in (key_add, key_list, key_remove):
        action.add_argument(
            "--authorized-keys",
            metavar="PATH",
            type=Path,
            help="default: ~/.ssh/authorized_keys of the account running this",
        )

    tickets = sub.add_parser("tickets", help="tickets: close one (as the operations side does)")
    tickets_sub = tickets.add_subparsers(dest="tickets_command", metavar="ACTION", required=True)
    close = tickets_sub.add_parser("close", help="close ticket NUMBER with a resolution")
    close.add_argument("number", type=_positive_int)
    close.add_argument("--resolution", required=True, help='e.g. "Equipment End of Life"')

    seg = sub.add_parser("segments", help="segments: list saved ones; count, show or export one")
    seg_sub = seg.add_subparsers(dest="segments_command", metavar="ACTION", required=True)
    seg_sub.add_parser("list", help="the saved segments with their definitions")
    for action, text in (
        ("count", "how many customers match"),
        ("show", "the first matches"),
        ("export", "write the matching customers as CSV to standard output"),
    ):
        one = seg_sub.add_parser(action, help=text)
        one.add_argument(
            "segment",
            metavar="NAME-OR-EXPRESSION",
            help='a saved segment\'s name, or e.g. "equipment.age > 10 and last_service > 6mo"',
        )

    unsub = sub.add_parser(
        "unsubscribe", help="opt an email address out of all email (every customer with it)"
    )
    unsub.add_argument("email")

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
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not positive")
    return value


def _settings(args: argparse.Namespace):  # -> Settings (import kept lazy for start-up time)
    from .settings import load_settings

    if args.config is not None:
        os.environ["SALESENGINE_CONFIG_FILE"] = str(args.config)
    try:
        return load_settings(database_url=args.database_url, user=args.user, data_dir=args.data_dir)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        raise UserError(f"setting {where}: {first['msg']}") from None


def _engine(args: argparse.Namespace, *, auto_migrate: bool = False) -> Engine:
    from .db.connect import open_engine

    return open_engine(_settings(args), auto_migrate=auto_migrate)


def _run_tui(args: argparse.Namespace, login: str | None, engine: Engine) -> int:
    from .users import Actor, get_by_login

    settings = _settings(args)
    login = login or settings.user or getpass.getuser()
    with session_scope(engine) as session:
        actor = Actor.of(get_by_login(session, login))
    _require_terminal()
    # Textual is imported only once we know the app will open (fast, clean failures).
    from .app import SalesEngineApp
    from .context import AppContext

    SalesEngineApp(AppContext(engine=engine, clock=Clock(), settings=settings, actor=actor)).run()
    return 0


def _require_terminal() -> None:
    # Textual reads keys from stdin and draws on stderr. Without a terminal (`ssh host` with no
    # pty, or sftp to a forced command) it would draw into a pipe and outlive the client.
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        raise UserError("the app needs a terminal (over SSH, connect with `ssh -t`)")


def cmd_open(args: argparse.Namespace) -> int:
    engine = _engine(args)
    try:
        return _run_tui(args, None, engine)
    finally:
        engine.dispose()


def cmd_demo(args: argparse.Namespace) -> int:
    from .db.demo import database_is_empty

    # The demo's blasts need the compliance settings to send; a real install sets its own.
    os.environ.setdefault("SALESENGINE_COMPANY_POSTAL_ADDRESS", "100 Demo Way, Dallas TX 75201")
    os.environ.setdefault("SALESENGINE_UNSUBSCRIBE_URL", "https://example.com/unsubscribe")
    engine = _engine(args, auto_migrate=True)
    try:
        if database_is_empty(engine):
            _seed(engine, args.customers, args.seed)
        return _run_tui(args, args.user or DEMO_LOGIN, engine)
    finally:
        engine.dispose()


def _seed(engine: Engine, customers: int, seed: int) -> None:
    from rich.progress import Progress

    from .db.demo import seed_demo

    with Progress(console=err, transient=True) as progress:
        tasks: dict[str, int] = {}

        def report(table: str, done: int, total: int) -> None:
            if table not in tasks:
                tasks[table] = progress.add_task(f"seeding {table}", total=total)
            progress.update(tasks[table], completed=done)

        result = seed_demo(engine, customers=customers, seed=seed, clock=Clock(), progress=report)
    err.print(
        f"seeded {result.total_rows:,} rows in {result.elapsed_seconds:.1f} s "
        f"({result.rows_per_second:,.0f} rows/s)"
    )


def cmd_db(args: argparse.Namespace) -> int:
    from .db import migrate

    if args.db_command == "seed":
        engine = _engine(args)
        try:
            _seed(engine, args.customers, args.seed)
        finally:
            engine.dispose()
        return 0
    from .db.connect import resolve_url
    from .db.engine import check_connection, make_engine

    engine = make_engine(resolve_url(_settings(args)))
    try:
        check_connection(engine)
        if args.db_command == "upgrade":
            before = migrate.current_revision(engine)
            migrate.upgrade(engine, args.revision)
            after = migrate.current_revision(engine)
            print(f"database at {after}" + ("" if before != after else " (already current)"))
        elif args.db_command == "stamp":
            migrate.stamp(engine, args.revision)
            print(f"database stamped at {migrate.current_revision(engine)}")
        elif args.db_command == "downgrade":
            migrate.downgrade(engine, args.revision)
            print(f"database at {migrate.current_revision(engine) or 'base (empty)'}")
        else:
            current = migrate.current_revision(engine)
            head = migrate.head_revision(engine)
            state = "current" if current == head else f"behind {head}"
            print(f"{current or 'base (empty)'} ({state})")
    finally:
        engine.dispose()
    return 0


def cmd_users(args: argparse.Namespace) -> int:
    from .display import safe_text
    from .users import add_user, list_users

    if args.users_command == "ssh-key":
        return cmd_ssh_key(args)
    engine = _engine(args)
    try:
        with session_scope(engine) as session:
            if args.users_command == "add":
                user = add_user(
                    session, args.login, name=args.name, role=args.role, email=args.email
                )
                print(f"added {user.role} {user.login}")
                return 0
            table = Table("login", "name", "role", "email", "active", box=None)
            for user in list_users(session):
                table.add_row(
                    safe_text(user.login),
                    safe_text(user.name),
                    str(user.role),
                    safe_text(user.email or ""),
                    "yes" if user.active else "no",
                )
            Console(highlight=False).print(table)
    finally:
        engine.dispose()
    return 0


def cmd_ssh_key(args: argparse.Namespace) -> int:
    from . import ssh_keys
    from .display import visible
    from .settings import default_config_file

    path = args.authorized_keys or ssh_keys.default_authorized_keys()
    if args.ssh_key_command == "add":
        config = args.config.absolute() if args.config is not None else None
        engine = _engine(args)  # the user must exist in the database the key will open
        try:
            with session_scope(engine) as session:
                key, outcome = ssh_keys.add_for_user(
                    session,
                    path,
                    args.keyfile,
                    args.login,
                    executable=ssh_keys.default_executable(),
                    config=config,
                )
        finally:
            engine.dispose()
        said = f"key {key.fingerprint} ({key.type}) for {args.login}"
        print(
            {
                "added": f"added {said} to {path}",
                "replaced": f"updated {said} in {path}",
                "unchanged": f"nothing to do: {said} is already in {path}",
            }[outcome]
        )
        for warning in ssh_keys.config_warnings(
            config or default_config_file(),
            url_from_flag=args.database_url is not None,
            url_from_env=bool(os.environ.get("SALESENGINE_DATABASE_URL")),
            config_from_env=config is None and bool(os.environ.get("SALESENGINE_CONFIG_FILE")),
        ):
            print(f"salesengine: warning: {warning}", file=sys.stderr)
        return 0
    if args.ssh_key_command == "remove":
        for gone in ssh_keys.remove_keys(path, args.key):
            print(f"removed key {gone.key.fingerprint} of {gone.login} from {path}")
        return 0
    listing = ssh_keys.list_keys(path)
    # Plain aligned lines, not a table: a fingerprint (what `remove` takes) is never cut or
    # wrapped to fit the terminal, and each key stays one line for grep.
    rows = [("login", "type", "fingerprint", "comment")] + [
        (visible(m.login), m.key.type, m.key.fingerprint, visible(m.key.comment))
        for m in listing.mapped
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print("  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[3]]))
    if listing.other:
        print(
            f"note: {len(listing.other)} other key(s) in {path} have no SalesEngine command "
            "and may open a shell on this account",
            file=sys.stderr,
        )
    return 0


PROBLEMS_SHOWN = 50


def cmd_leads(args: argparse.Namespace) -> int:
    from rich.progress import Progress

    from . import lead_import
    from .db.models import CustomerStatus

    engine = _engine(args)
    try:
        if args.leads_command == "export":
            status = CustomerStatus(args.status) if args.status else None
            with session_scope(engine) as session:
                count = lead_import.export_customers(session, sys.stdout, status=status)
            err.print(f"exported {count:,} customers")
            return 0
        with Progress(console=err, transient=True) as bar, session_scope(engine) as session:
            tasks: dict[str, int] = {}

            def progress(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(stage, total=total or None)
                bar.update(tasks[stage], completed=done, total=total or None)

            report = lead_import.import_leads(
                session,
                args.file,
                now=Clock().now(),
                source=args.source,
                owner_login=args.owner,
                dry_run=args.dry_run,
                progress=progress,
            )
            if args.dry_run:
                session.rollback()
        problems = sorted(report.invalid + report.duplicates, key=lambda p: p.line)
        for problem in problems[:PROBLEMS_SHOWN]:
            print(f"{args.file}:{problem.line}: {problem.message}", file=sys.stderr)
        if len(problems) > PROBLEMS_SHOWN:
            print(f"... and {len(problems) - PROBLEMS_SHOWN:,} more", file=sys.stderr)
        verb = "would import" if args.dry_run else "imported"
        print(
            f"{report.rows:,} rows: {verb} {report.imported:,}, "
            f"{len(report.duplicates):,} duplicates skipped, {len(report.invalid):,} invalid"
        )
        return 0
    finally:
        engine.dispose()


def cmd_tickets(args: argparse.Namespace) -> int:
    from .tickets import close

    engine = _engine(args)
    try:
        with session_scope(engine) as session:
            ticket = close(session, args.number, resolution=args.resolution, now=Clock().now())
            print(f"closed ticket #{ticket.number}: {ticket.resolution}")
    finally:
        engine.dispose()
    return 0


def cmd_segments(args: argparse.Namespace) -> int:
    from . import lead_import, saved_segments, segments
    from .display import safe_text

    engine = _engine(args)
    try:
        with session_scope(engine) as session:
            if args.segments_command == "list":
                table = Table("name", "definition", "by", box=None)
                for saved in saved_segments.list_saved(session):
                    table.add_row(safe_text(saved.name), safe_text(saved.text),
                                  safe_text(saved.created_by))  # fmt: skip
                Console(highlight=False).print(table)
                return 0
            try:
                definition, name = saved_segments.resolve(session, args.segment)
            except segments.SegmentError as exc:
                # Point at the place, under the expression as typed.
                print(f"  {args.segment}\n  {' ' * exc.position}^", file=sys.stderr)
                raise
            now = Clock().now()
            if args.segments_command == "export":
                where = segments.compile_definition(definition, now)
                count = lead_import.export_customers(session, sys.stdout, where=where)
                print(f"exported {count:,} customers", file=sys.stderr)
                return 0
            total = segments.count(session, definition, now=now)
            saved = f"  (saved segment {name!r})" if name else ""
            print(f"{total:,} customers match: {segments.to_text(definition)}{saved}")
            if args.segments_command == "show":
                table = Table("name", "email", "status", box=None)
                for member in segments.preview(session, definition, now=now):
                    table.add_row(safe_text(member.name), safe_text(member.email), member.status)
                Console(highlight=False).print(table)
    finally:
        engine.dispose()
    return 0


def cmd_unsubscribe(args: argparse.Namespace) -> int:
    from .outbox import unsubscribe

    engine = _engine(args)
    try:
        with session_scope(engine) as session:
            count = unsubscribe(session, args.email, now=Clock().now())
    finally:
        engine.dispose()
    if count:
        print(f"opted out {count:,} customer(s) with {args.email.strip()}")
    else:
        print(f"nothing to do: no customer still opted in has {args.email.strip()}")
    return 0


COMMANDS: dict[str | None, Callable[[argparse.Namespace], int]] = {
    None: cmd_open,
    "demo": cmd_demo,
    "db": cmd_db,
    "users": cmd_users,
    "leads": cmd_leads,
    "unsubscribe": cmd_unsubscribe,
    "tickets": cmd_tickets,
    "segments": cmd_segments,
}


def _fail(message: str) -> int:
    # Plain print: one line stays one line whatever the terminal width.
    print(f"salesengine: error: {message}", file=sys.stderr)
    return EXIT_ERROR


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except UserError as exc:
        return _fail(str(exc))
    except AlembicCommandError as exc:
        return _fail(f"migration: {exc}")
    except (OperationalError, InterfaceError) as exc:
        # The server went away after we connected. Driver messages carry no password.
        first = str(getattr(exc, "orig", exc)).strip().splitlines() or [type(exc).__name__]
        return _fail(f"lost the connection to PostgreSQL: {first[0]}")
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
