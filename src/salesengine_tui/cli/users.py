"""`salesengine users`: add and list users; SSH keys that open the app as one user."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from .common import acting_login, open_desk


def add_parsers(sub: argparse._SubParsersAction) -> None:
    users = sub.add_parser("users", help="users: add, list, ssh-key")
    users_sub = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    add = users_sub.add_parser("add", help="add a user")
    add.add_argument("login")
    add.add_argument("--name", required=True)
    add.add_argument("--role", required=True, choices=["rep", "manager", "technician"])
    add.add_argument("--email")
    add.add_argument(
        "--db-role",
        metavar="ROLE",
        help="the person's existing PostgreSQL role (default: a new role se_LOGIN, which "
        "can log in once the server's administrator gives it a password or certificate)",
    )
    add.add_argument(
        "--initials",
        help="shown on cards and lists, unique on the desk (default: picked from the name, "
        "e.g. JW, then JWi when JW is taken)",
    )
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


def cmd_users(args: argparse.Namespace) -> int:
    from ..ui.display import safe_text

    if args.users_command == "ssh-key":
        return cmd_ssh_key(args)
    if args.users_command == "add":
        # By a manager, or, as the database's owner, by anyone while it has none (the first).
        with open_desk(args, acting="if-known") as desk:
            user = desk.users.add(
                args.login,
                name=args.name,
                role=args.role,
                email=args.email,
                initials=args.initials,
                db_role=args.db_role,
                by=acting_login(args, desk.ctx.settings),
            )
        print(
            f"added {user.role} {user.login} (initials {user.initials}, "
            f"database role {safe_text(user.db_role or '')})"
        )
        return 0
    with open_desk(args) as desk:
        people = desk.users.people()
    table = Table("login", "name", "initials", "role", "email", "active", box=None)
    for person in people:
        table.add_row(
            safe_text(person.login),
            safe_text(person.name),
            safe_text(person.initials),
            str(person.role),
            safe_text(person.email or ""),
            "yes" if person.active else "no",
        )
    Console(highlight=False).print(table)
    return 0


def cmd_ssh_key(args: argparse.Namespace) -> int:
    from ..access import ssh_keys
    from ..base.settings import default_config_file
    from ..ui.display import visible

    path = args.authorized_keys or ssh_keys.default_authorized_keys()
    if args.ssh_key_command == "add":
        config = args.config.absolute() if args.config is not None else None
        # The user must exist in the database the key will open; a manager adds the key.
        with open_desk(args, acting=True) as desk:
            key, outcome = desk.users.add_ssh_key(
                path,
                args.keyfile,
                args.login,
                executable=ssh_keys.default_executable(),
                config=config,
            )
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
            print(f"removed key {gone.key.fingerprint} of {visible(gone.login)} from {path}")
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
