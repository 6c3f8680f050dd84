"""What an unsubscribe link shows and does: the confirmation page's facts (the address
masked, whether it is opted out already) and the one-click opt-out (RFC 8058) it leads to.

The link's signed token names the customer (`tokens`); the opt-out goes through the one
opt-out rule, `customers.status`, so it is on the customer's timeline. An address is one
mailbox: whoever holds it asked, so every customer with the same address is opted out too
(as `compliance.unsubscribe` does by address)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Session

from ..base.settings import Settings
from ..customers.status import OptOutVia, change_email_opt_out, same_mailbox
from ..db.models import Customer
from .tokens import BadToken, UnsubscribeToken, read_unsubscribe_token

MASK = "•••"


class UnknownCustomer(BadToken):
    """A good token whose customer is no longer on file: nothing is left to opt out."""


@dataclass(frozen=True)
class UnsubscribeView:
    masked_email: str | None  # `a•••@example.com`: enough to recognise, not to harvest
    opted_out: bool
    issued: date  # the day the link was sent


def mask_email(address: str | None) -> str | None:
    """The first letter, `•••` and the domain: a page anyone with the link can open shows no
    more of the address than that."""
    local, at, domain = (address or "").strip().rpartition("@")
    if not at:
        return MASK if address and address.strip() else None
    return f"{local[:1]}{MASK}@{domain}"


def _customer(
    session: Session, settings: Settings, token: str, today: date, *, lock: bool
) -> tuple[UnsubscribeToken, sa.Row]:
    """The customer a token names, with the token; BadToken, ExpiredToken or UnknownCustomer."""
    read = read_unsubscribe_token(settings, token, today)
    query = sa.select(Customer.id, Customer.email, Customer.email_opt_out).where(
        Customer.id == read.customer_id
    )
    row = session.execute(query.with_for_update() if lock else query).one_or_none()
    if row is None:
        raise UnknownCustomer("this link is for a customer no longer on file")
    return read, row


def view(session: Session, settings: Settings, token: str, *, today: date) -> UnsubscribeView:
    """What the confirmation page shows; changes nothing (mail scanners open links)."""
    read, row = _customer(session, settings, token, today, lock=False)
    return UnsubscribeView(mask_email(row.email), row.email_opt_out, read.issued)


def unsubscribe(
    session: Session, settings: Settings, token: str, *, now: datetime, today: date
) -> UnsubscribeView:
    """Opt the link's customer (and every customer with the same address) out of email at
    once; a repeat changes nothing and answers the same."""
    read, row = _customer(session, settings, token, today, lock=True)
    change_email_opt_out(
        session,
        same_mailbox([read.customer_id]),
        opted_out=True,
        via=OptOutVia.link,
        by=None,
        at=now,
    )
    return UnsubscribeView(mask_email(row.email), True, read.issued)
