"""What the operations side and the mailbox ask of us: `salesengine tickets close` and
`salesengine unsubscribe`."""

from __future__ import annotations

import argparse

from .common import open_desk, positive_int


def add_tickets_parsers(sub: argparse._SubParsersAction) -> None:
    tickets = sub.add_parser("tickets", help="tickets: close one (as the operations side does)")
    tickets_sub = tickets.add_subparsers(dest="tickets_command", metavar="ACTION", required=True)
    close = tickets_sub.add_parser("close", help="close ticket NUMBER with a resolution")
    close.add_argument("number", type=positive_int)
    close.add_argument("--resolution", required=True, help='e.g. "Equipment End of Life"')


def add_unsubscribe_parsers(sub: argparse._SubParsersAction) -> None:
    unsub = sub.add_parser(
        "unsubscribe", help="opt an email address out of all email (every customer with it)"
    )
    unsub.add_argument("email")


def cmd_tickets(args: argparse.Namespace) -> int:
    # Acts as the person at the keyboard: technicians and managers close tickets.
    with open_desk(args, acting=True) as desk:
        ticket = desk.customers.close_ticket(args.number, args.resolution)
        print(f"closed ticket #{ticket.number}: {ticket.resolution}")
    return 0


def cmd_unsubscribe(args: argparse.Namespace) -> int:
    # Needs no user: a customer's request to stop email is honoured whoever relays it.
    with open_desk(args) as desk:
        count = desk.email.unsubscribe(args.email)
    if count:
        print(f"opted out {count:,} customer(s) with {args.email.strip()}")
    else:
        print(f"nothing to do: no customer still opted in has {args.email.strip()}")
    return 0
