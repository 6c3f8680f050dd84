"""Rows the search tests look for: customers with phones in the punctuation operations data
has, deals and tickets with known numbers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from factories import FIXED_NOW, add_customer, stages_of
from sqlmodel import Session

from salesengine_tui.db.models import (
    Customer,
    CustomerStatus,
    Estimate,
    Ticket,
    TicketStatus,
)

PHONE = "+19726532552"  # stored as the app stores phones
OPS_PHONE = "(214) 555-0199"  # stored as an operations import left it


@dataclass(frozen=True)
class Found:
    customers: dict[str, Customer]
    deals: dict[str, Estimate]  # by title
    tickets: dict[str, Ticket]  # by summary


def add_deal(
    session: Session, customer: Customer, title: str, number: int, *, amount: int = 5000
) -> Estimate:
    stage = stages_of(session, "Residential Replacements")["New"]
    deal = Estimate(
        customer_id=customer.id,
        number=number,
        title=title,
        amount=Decimal(amount),
        stage_id=stage.id,
        stage_entered_at=FIXED_NOW,
        created_at=FIXED_NOW,
        updated_at=FIXED_NOW,
    )
    session.add(deal)
    session.flush()
    return deal


def add_ticket(
    session: Session,
    customer: Customer,
    summary: str,
    number: int,
    *,
    status: TicketStatus = TicketStatus.open,
) -> Ticket:
    ticket = Ticket(
        customer_id=customer.id,
        number=number,
        summary=summary,
        status=status,
        opened_at=FIXED_NOW - timedelta(days=3),
        closed_at=FIXED_NOW if status is TicketStatus.closed else None,
        resolution="Fixed" if status is TicketStatus.closed else None,
    )
    session.add(ticket)
    session.flush()
    return ticket


def seed_search(session: Session) -> Found:
    """Customers, deals and tickets with the names, numbers and phones the tests type."""
    people = [
        # name, status, phone, email
        ("Karen Smith", CustomerStatus.lead, PHONE, "karen.smith42@gmail.com"),
        ("Karen Smithers", CustomerStatus.active, "+19726530000", "ksmithers@example.org"),
        ("Karena Jones", CustomerStatus.lead, None, "kj@example.org"),
        ("John Karensen", CustomerStatus.churned, None, None),
        ("Bob O'Brien-Smith", CustomerStatus.active, OPS_PHONE, "bob@obrien.example"),
        ("Smith & Sons Heating", CustomerStatus.active, "+12145550100", "office@smithsons.example"),
        ("Zed Aardvark", CustomerStatus.lead, "+14695552552", None),  # another "...2552"
    ]
    customers: dict[str, Customer] = {}
    for i, (name, status, phone, email) in enumerate(people):
        customer = add_customer(session, name, status=status, phone=phone, n=500 + i)
        customer.email = email
        customers[name] = customer
    session.flush()
    karen, bob = customers["Karen Smith"], customers["Bob O'Brien-Smith"]
    deals = {
        title: add_deal(session, customer, title, number)
        for title, customer, number in [
            ("Furnace replacement - 80k BTU", karen, 249),
            ("Two-stage furnace upgrade", bob, 250),
            ("Replace 3-ton AC + coil", karen, 1234),
            ("Tankless water heater", bob, 77),
        ]
    }
    tickets = {
        summary: add_ticket(session, customer, summary, number, status=status)
        for summary, customer, number, status in [
            ("No heat upstairs", bob, 1234, TicketStatus.closed),
            ("AC blowing warm air", karen, 5678, TicketStatus.open),
        ]
    }
    return Found(customers, deals, tickets)
