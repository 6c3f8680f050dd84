"""`salesengine db`: migrations (upgrade, downgrade, current, stamp) and demo data."""

from __future__ import annotations

import argparse

from .app_commands import seed
from .common import cli_settings, open_desk, positive_int


def add_parsers(sub: argparse._SubParsersAction) -> None:
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
    seed_cmd = db_sub.add_parser("seed", help="load deterministic demo data into an empty database")
    seed_cmd.add_argument("--customers", type=positive_int, default=5000)
    seed_cmd.add_argument("--seed", type=int, default=42)


def cmd_db(args: argparse.Namespace) -> int:
    from ..db import migrate

    if args.db_command == "seed":
        with open_desk(args, admin=True) as desk:
            seed(desk.ctx.engine, args.customers, args.seed)
        return 0
    # Migrations run on a database at any revision: no schema check on the way in.
    from ..db.connect import resolve_url
    from ..db.engine import check_connection, make_engine

    engine = make_engine(resolve_url(cli_settings(args)))
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
