"""`salesengine keys`: every key binding id of the app with its default and current keys (for
writing a [keymap] table in the settings file); `--check` also says what in that table is
wrong, with the file and line, and exits 1 if anything is. No database is needed.

The app's screens are imported only here, inside the command (they bring Textual)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from .common import cli_settings

if TYPE_CHECKING:
    from ..base.keymap import KeymapCheck
    from ..base.settings import Settings

EXIT_PROBLEMS = 1


def add_parsers(sub: argparse._SubParsersAction) -> None:
    keys = sub.add_parser(
        "keys",
        help="list every key binding id with its default and current keys",
        description="List every key binding of the app: its id (what a [keymap] table in the "
        'settings file rebinds: "board.move_next" = "ctrl+l", alternatives comma-separated), '
        "what it does, its default keys, its keys now, and where it applies.",
    )
    keys.add_argument(
        "--check",
        action="store_true",
        help="only check the [keymap] table: print its problems, exit 1 if there are any",
    )


def check(settings: Settings) -> KeymapCheck:
    from ..app import SalesEngineApp
    from ..base.settings import config_file
    from ..screens.key_catalogue import check_user_keymap

    return check_user_keymap(SalesEngineApp, settings.keymap, config_file())


def report_problems(problems: list[str]) -> None:
    """Before the app opens: each problem of the keymap on stderr (the app shows them too)."""
    for problem in problems:
        print(f"salesengine: keymap: {problem}", file=sys.stderr)


def cmd_keys(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from ..app import SalesEngineApp
    from ..screens.key_catalogue import key_rows

    settings = cli_settings(args)
    checked = check(settings)
    report_problems(checked.problems)
    if args.check:
        if not checked.problems:
            print(f"keymap: {len(checked.keymap)} rebound, no problems")
        return EXIT_PROBLEMS if checked.problems else 0
    table = Table(box=None, highlight=False)
    for title in ("id", "does", "default", "now", "where"):
        table.add_column(title, overflow="fold")  # a narrow terminal wraps, never cuts
    for row in key_rows(SalesEngineApp, checked.keymap):
        style = "bold" if row.current != row.default else ""  # rebound by the keymap
        cells = (row.id, row.description, row.default, row.current, row.where)
        table.add_row(*(Text(cell, style=style) for cell in cells))  # Text: never markup
    Console(highlight=False).print(table)
    return 0
