"""What a search finds: one typed hit per customer, deal or ticket, with why it was found
(which orders the list) and what a list line needs to say about it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum, StrEnum


class Kind(StrEnum):
    customer = "customer"
    deal = "deal"
    ticket = "ticket"


class Why(IntEnum):
    """Why a hit was found, best first: the list is ordered by it, then within each reason
    by the order its source gives (names A to Z, newest deals and tickets first)."""

    number = 0  # the deal or ticket number typed ("#249", "T-1234", "249")
    exact = 1  # the whole name, email or phone number
    name_start = 2  # the name starts with what was typed
    words = 3  # every word typed starts a word of the name or the email's local part
    phone_start = 4  # the phone number starts with the digits typed
    phone_end = 5  # the phone number ends with them
    email_start = 6  # the email address starts with what was typed
    title_words = 7  # every word typed starts a word of a deal's title


@dataclass(frozen=True)
class Hit:
    kind: Kind
    id: uuid.UUID  # the customer's, the deal's or the ticket's
    customer_id: uuid.UUID  # what `enter` opens for a ticket (and a deal, lacking its screen)
    why: Why
    title: str  # the customer's name, the deal's title, the ticket's summary
    customer_name: str
    state: str  # the customer's status, the deal's stage, the ticket's status
    number: int | None = None  # the deal's or the ticket's
    phone: str | None = None  # E.164 (`customers.phones.phone_display` shows it)
    phone_ext: str | None = None
    email: str | None = None
    amount: Decimal | None = None  # the deal's value

    @property
    def key(self) -> tuple[Kind, uuid.UUID]:
        return (self.kind, self.id)

    @property
    def label(self) -> str:
        """The hit's name as a list shows it (data: show it through `ui.display`)."""
        if self.number is None:
            return self.title
        return f"#{self.number} {self.title}"
