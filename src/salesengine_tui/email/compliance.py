"""Marketing compliance: the footer every campaign carries, its unsubscribe link, and opting
customers out (from the link's mailbox, or by hand on the profile)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from ..base import validation
from ..base.errors import UserError
from ..base.settings import Settings
from ..db.models import Customer


def campaign_footer(settings: Settings, customer_id: uuid.UUID | None) -> str:
    """The visible part of marketing compliance: an unsubscribe link and the postal address."""
    return (
        "\n\n--\n"
        f"Unsubscribe: {unsubscribe_link(settings, customer_id)}\n"
        f"{settings.company_postal_address}\n"
    )


def unsubscribe_link(settings: Settings, customer_id: uuid.UUID | None) -> str:
    base = settings.unsubscribe_url or ""
    joiner = "&" if "?" in base else "?"
    return f"{base}{joiner}c={customer_id}" if customer_id else base


def require_campaign_settings(settings: Settings) -> None:
    """Campaigns are refused before anything is queued when compliance is not configured."""
    missing = [
        name
        for name, value in (
            ("SALESENGINE_COMPANY_POSTAL_ADDRESS", settings.company_postal_address),
            ("SALESENGINE_UNSUBSCRIBE_URL", settings.unsubscribe_url),
        )
        if not (value or "").strip()
    ]
    if missing:
        raise UserError(
            "marketing email needs a postal address and an unsubscribe link: set "
            + " and ".join(missing)
        )


def unsubscribe(session: Session, email: str, *, now: datetime) -> int:
    """Opt every customer with this address out of email; returns how many."""
    address = validation.email(email, "email")
    if address is None:
        raise UserError("no email address given")
    result = session.execute(
        sa.update(Customer)
        .where(sa.func.lower(Customer.email) == address.lower(), ~Customer.email_opt_out)
        .values(email_opt_out=True, opted_out_at=now, updated_at=now)
        .returning(Customer.id)
    )
    return len(result.all())


def set_opt_out(
    session: Session, customer_id: uuid.UUID, opted_out: bool, *, now: datetime
) -> None:
    session.execute(
        sa.update(Customer)
        .where(Customer.id == customer_id)
        .values(email_opt_out=opted_out, opted_out_at=now if opted_out else None, updated_at=now)
    )
