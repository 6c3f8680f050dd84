"""What every command shares: settings from flags, one engine per command (as a Desk), the
error console, argument types."""

from __future__ import annotations

import argparse
import getpass
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import ValidationError
from rich.console import Console

from ..base.clock import Clock
from ..base.errors import UserError

if TYPE_CHECKING:  # imports kept lazy for start-up time
    from ..base.settings import Settings
    from ..usecases import Desk

err = Console(stderr=True, highlight=False)


def add_global_flags(parser: argparse.ArgumentParser) -> None:
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
    parser.add_argument(
        "--ssh-key",
        metavar="FINGERPRINT",
        help="the SSH key a session came in with, for the audit trail (the key's forced "
        "command passes it)",
    )


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not positive")
    return value


def cli_settings(args: argparse.Namespace) -> Settings:
    from ..base.settings import load_settings

    if args.config is not None:
        if not args.config.is_file():  # named on purpose: not quietly left out
            why = "is not a file" if args.config.exists() else "does not exist"
            raise UserError(f"the settings file {args.config} {why}")
        os.environ["SALESENGINE_CONFIG_FILE"] = str(args.config)
    try:
        return load_settings(database_url=args.database_url, user=args.user, data_dir=args.data_dir)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        raise UserError(f"setting {where}: {first['msg']}") from None


@contextmanager
def open_desk(
    args: argparse.Namespace,
    *,
    auto_migrate: bool = False,
    default_login: str | None = None,
    acting: bool | Literal["if-known"] = False,
    admin: bool = False,
) -> Iterator[Desk]:
    """One engine for the whole command, disposed at its end.

    Who acts is decided by how the connection logs in (`Users.sign_in`): a person's own role
    is that person; through the gateway (the embedded database, the SSH service account)
    every command acts as someone: --user, else SALESENGINE_USER, else `default_login`, else
    the OS login. As the schema's owner, a command acts as someone only when `acting` (as every
    command that changes data does, to meet the role rules), and otherwise as nobody in
    particular (reads, administration); "if-known": as the user if they exist, else as
    nobody (the first manager of a new database). `admin`: log in to the embedded database
    as its superuser (seeding demo data)."""
    from ..base.origin import session_origin
    from ..db.connect import open_engine
    from ..db.roles import GATEWAY_ROLE
    from ..usecases import AppContext, Desk

    settings = cli_settings(args)
    origin = session_origin(getattr(args, "ssh_key", None))
    engine = open_engine(
        settings, auto_migrate=auto_migrate, embedded_role=None if admin else GATEWAY_ROLE
    )
    try:
        desk = Desk(AppContext(engine, Clock(), settings, actor=None, origin=origin))
        if not admin:
            _sign_in(desk, args, settings, default_login, acting)
        yield desk
    finally:
        engine.dispose()


def _sign_in(
    desk: Desk,
    args: argparse.Namespace,
    settings: Settings,
    default_login: str | None,
    acting: bool | Literal["if-known"],
) -> None:
    from ..base.errors import NotFound

    asked = args.user or settings.user
    owner = desk.users.connected().kind == "owner"
    if owner and not acting:
        return
    default = default_login or getpass.getuser()
    try:
        desk.users.sign_in(asked, default)
    except NotFound:
        if not (owner and acting == "if-known"):
            raise


def acting_login(args: argparse.Namespace, settings: Settings) -> str:
    """Who is at the keyboard: --user, else SALESENGINE_USER, else the OS login."""
    return args.user or settings.user or getpass.getuser()
