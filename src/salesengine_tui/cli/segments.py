"""`salesengine segments`: list saved segments; count, show or export one."""

from __future__ import annotations

import argparse
import sys

from rich.console import Console
from rich.table import Table

from .common import open_desk


def add_parsers(sub: argparse._SubParsersAction) -> None:
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


def cmd_segments(args: argparse.Namespace) -> int:
    from ..marketing import segments
    from ..ui.display import safe_text, visible

    with open_desk(args) as desk:
        if args.segments_command == "list":
            table = Table("name", "definition", "owner", box=None)
            for saved in desk.segments.list_saved():
                table.add_row(safe_text(saved.name), safe_text(saved.text),
                              safe_text(saved.owner, empty="(managers)"))  # fmt: skip
            Console(highlight=False).print(table)
            return 0
        try:
            definition, name = desk.segments.resolve(args.segment)
        except segments.SegmentError as exc:
            # Point at the place, under the expression as typed (when it is one plain line).
            if args.segment.isprintable():
                print(f"  {args.segment}\n  {' ' * exc.position}^", file=sys.stderr)
            raise
        # Say which it was: a saved segment's name, or the text read as an expression.
        used = f"(saved segment {name!r})" if name else "(expression, not a saved segment)"
        if args.segments_command == "export":
            count = desk.segments.export_csv(definition, sys.stdout)
            print(f"exported {count:,} customers  {used}", file=sys.stderr)
            return 0
        total = desk.segments.count(definition)
        print(f"{total:,} customers match: {visible(segments.to_text(definition))}  {used}")
        if args.segments_command == "show":
            table = Table("name", "email", "status", box=None)
            for member in desk.segments.preview(definition):
                table.add_row(safe_text(member.name), safe_text(member.email), member.status)
            Console(highlight=False).print(table)
    return 0
