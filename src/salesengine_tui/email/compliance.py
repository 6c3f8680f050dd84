"""Marketing compliance: the footer every campaign carries, its unsubscribe link, and opting
customers out from the link's mailbox (by the one opt-out rule, `customers.status`, which
the profile uses too)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from ..base import validation
from ..base.errors import UserError
from ..base.settings import Settings
from ..customers.status import OptOutVia, change_email_opt_out
from ..db.models import Customer

POSTAL_ADDRESS_SETTING = "SALESENGINE_COMPANY_POSTAL_ADDRESS"
UNSUBSCRIBE_URL_SETTING = "SALESENGINE_UNSUBSCRIBE_URL"


def campaign_footer(settings: Settings, customer_id: uuid.UUID | None) -> str:
    """The visible part of marketing compliance: an unsubscribe link and the postal address.

    A setting not made yet shows as a placeholder naming it (what a preview shows): no
    campaign with one is ever queued, `require_campaign_settings` refuses it first."""
    link = unsubscribe_link(settings, customer_id) or _missing(
        "no unsubscribe link", UNSUBSCRIBE_URL_SETTING
    )
    address = (settings.company_postal_address or "").strip() or _missing(
        "no postal address", POSTAL_ADDRESS_SETTING
    )
    return f"\n\n--\nUnsubscribe: {link}\n{address}\n"


def _missing(what: str, setting: str) -> str:
    # The setting's name after a space: it wraps onto its own line whole where room is short.
    return f"[{what} yet: set {setting}]"


def unsubscribe_link(settings: Settings, customer_id: uuid.UUID | None) -> str | None:
    """The customer's own unsubscribe link; None while no unsubscribe URL is set (never a
    link made of the customer's id alone)."""
    base = (settings.unsubscribe_url or "").strip()
    if not base:
        return None
    joiner = "&" if "?" in base else "?"
    return f"{base}{joiner}c={customer_id}" if customer_id else base


def missing_campaign_settings(settings: Settings) -> list[str]:
    """The settings marketing email still needs (their environment names), in order."""
    return [
        name
        for name, value in (
            (POSTAL_ADDRESS_SETTING, settings.company_postal_address),
            (UNSUBSCRIBE_URL_SETTING, settings.unsubscribe_url),
        )
        if not (value or "").strip()
    ]


def require_campaign_settings(settings: Settings) -> None:
    """Campaigns are refused before anything is queued when compliance is not configured."""
    missing = missing_campaign_settings(settings)
    if missing:
        raise UserError(
            "marketing email needs a postal address and an unsubscribe link: set "
            + " and ".join(missing)
        )


def unsubscribe(session: Session, email: str, *, now: datetime) -> int:
    """Opt every customer with this address out of email (the customer's own request, by the
    unsubscribe link), each with its timeline entry; returns how many."""
    address = validation.email(email, "email")
    if address is None:
        raise UserError("no email address given")
    changed = change_email_opt_out(
        session,
        sa.func.lower(Customer.email) == address.lower(),
        opted_out=True,
        via=OptOutVia.link,
        by=None,
        at=now,
    )
    return len(changed)
