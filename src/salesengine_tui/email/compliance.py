"""Marketing compliance: the footer every campaign carries, its signed unsubscribe link, and
opting customers out from the link's mailbox (by the one opt-out rule, `customers.status`,
which the profile uses too).

A campaign's stored body holds `UNSUBSCRIBE_SLOT` where the link goes: the link is signed per
customer and dated the send day (`email.tokens`), which a set-based INSERT cannot compute (no
pgcrypto), so the sender fills the slot as each message goes out (`with_unsubscribe_link`),
and a preview fills it for the customer it shows."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session

from ..base import validation
from ..base.errors import UserError
from ..base.settings import Settings
from ..customers.status import OptOutVia, change_email_opt_out
from ..db.models import Customer
from .tokens import SIGNING_KEY_SETTING, has_signing_key, unsubscribe_link

POSTAL_ADDRESS_SETTING = "SALESENGINE_COMPANY_POSTAL_ADDRESS"
UNSUBSCRIBE_URL_SETTING = "SALESENGINE_UNSUBSCRIBE_URL"
# Where the link goes in a stored body. Unit separators never reach a body otherwise: a
# blast's text and a campaign's body refuse control characters (`validation.refuse_controls`)
# and placeholder values have theirs made spaces, so user text cannot forge or move the slot.
UNSUBSCRIBE_SLOT = "\x1funsubscribe\x1f"


def campaign_footer(settings: Settings) -> str:
    """The visible part of marketing compliance, as stored: the unsubscribe slot and the postal
    address (a placeholder naming its setting while it is not made: what a preview shows; no
    campaign with one is ever queued, `require_campaign_settings` refuses it first)."""
    address = (settings.company_postal_address or "").strip() or _missing(
        "no postal address", POSTAL_ADDRESS_SETTING
    )
    return f"\n\n--\nUnsubscribe: {UNSUBSCRIBE_SLOT}\n{address}\n"


def _missing(what: str, setting: str) -> str:
    # The setting's name after a space: it wraps onto its own line whole where room is short.
    return f"[{what} yet: set {setting}]"


def send_day(settings: Settings, now: datetime) -> date:
    """The business day an email goes out on: its unsubscribe link is dated so."""
    return now.astimezone(ZoneInfo(settings.business_timezone)).date()


def with_unsubscribe_link(
    body: str, settings: Settings, customer_id: uuid.UUID | None, issued: date
) -> str:
    """`body` with the customer's own link in its slot, or a placeholder naming the setting
    still to make (what a preview shows; the sender never sends one, see `sender`)."""
    if UNSUBSCRIBE_SLOT not in body:
        return body
    return body.replace(UNSUBSCRIBE_SLOT, _link_or_why(settings, customer_id, issued))


def _link_or_why(settings: Settings, customer_id: uuid.UUID | None, issued: date) -> str:
    missing = missing_link_settings(settings)
    if missing:  # the first to make: where it wraps, the name stays whole on its own line
        return _missing("no unsubscribe link", missing[0])
    if customer_id is None:
        return "[no unsubscribe link: the email is for no customer]"
    return unsubscribe_link(settings, customer_id, issued) or ""


def missing_link_settings(settings: Settings) -> list[str]:
    """The settings an unsubscribe link still needs: the page's URL and the signing key."""
    return [
        name
        for name, made in (
            (UNSUBSCRIBE_URL_SETTING, bool((settings.unsubscribe_url or "").strip())),
            (SIGNING_KEY_SETTING, has_signing_key(settings)),
        )
        if not made
    ]


def missing_campaign_settings(settings: Settings) -> list[str]:
    """The settings marketing email still needs (their environment names), in order."""
    address = (settings.company_postal_address or "").strip()
    return ([] if address else [POSTAL_ADDRESS_SETTING]) + missing_link_settings(settings)


def require_campaign_settings(settings: Settings) -> None:
    """Campaigns are refused before anything is queued when compliance is not configured."""
    missing = missing_campaign_settings(settings)
    if missing:
        raise UserError(
            "marketing email needs a postal address and a signed unsubscribe link: set "
            + ", ".join(missing[:-1])
            + (" and " if len(missing) > 1 else "")
            + missing[-1]
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
