"""What an email carries so that what comes back finds its way: the customer's signed
unsubscribe token (in the link and the List-Unsubscribe header), the reply address that
names the email it answers, and the Message-ID replies quote.

Tokens are HMAC-signed with SALESENGINE_SIGNING_KEY (`base.signing`): a bare or altered id is
refused. An unsubscribe token holds the customer and the day it was issued (the send day), and
is good for `unsubscribe_valid_days` after it; a reply token holds the outbox row."""

from __future__ import annotations

import email.utils
import functools
import re
import struct
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from ..base import signing
from ..base.errors import UserError
from ..base.settings import Settings

SIGNING_KEY_SETTING = "SALESENGINE_SIGNING_KEY"
_UNSUBSCRIBE = "unsubscribe"
_REPLY = "reply"
_EPOCH = date(1970, 1, 1)


class BadToken(Exception):
    """A token that is not ours: forged, altered, cut short, or for another purpose."""


class ExpiredToken(Exception):
    """One of ours, but older than the links are good for."""

    def __init__(self, issued: date) -> None:
        super().__init__(f"issued {issued.isoformat()}")
        self.issued = issued


def signing_keys(settings: Settings) -> list[bytes]:
    """The keys that verify, the signing one first; a UserError naming the setting if unset."""
    keys = [
        secret.get_secret_value().encode()
        for secret in (settings.signing_key, settings.signing_key_previous)
        if secret is not None and secret.get_secret_value().strip()
    ]
    if settings.signing_key is None or not settings.signing_key.get_secret_value().strip():
        raise UserError(f"unsubscribe links and reply addresses need {SIGNING_KEY_SETTING}")
    return keys


def has_signing_key(settings: Settings) -> bool:
    return settings.signing_key is not None and bool(
        settings.signing_key.get_secret_value().strip()
    )


# --- unsubscribe ------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnsubscribeToken:
    customer_id: uuid.UUID
    issued: date


def unsubscribe_token(settings: Settings, customer_id: uuid.UUID, issued: date) -> str:
    payload = customer_id.bytes + struct.pack(">I", (issued - _EPOCH).days)
    return signing.sign(signing_keys(settings)[0], _UNSUBSCRIBE, payload)


def read_unsubscribe_token(settings: Settings, token: str, today: date) -> UnsubscribeToken:
    """The customer a link is for; BadToken or ExpiredToken otherwise."""
    payload = signing.verify(signing_keys(settings), _UNSUBSCRIBE, token.strip())
    if payload is None or len(payload) != 20:
        raise BadToken("not a valid unsubscribe link")
    issued = _EPOCH + timedelta(days=struct.unpack(">I", payload[16:])[0])
    if today - issued > timedelta(days=settings.unsubscribe_valid_days):
        raise ExpiredToken(issued)
    return UnsubscribeToken(uuid.UUID(bytes=payload[:16]), issued)


def unsubscribe_link(settings: Settings, customer_id: uuid.UUID, issued: date) -> str | None:
    """The customer's own link (`<unsubscribe_url>?t=<token>`); None while the URL or the
    signing key is not set (never a link made of the bare id)."""
    base = (settings.unsubscribe_url or "").strip()
    if not base or not has_signing_key(settings):
        return None
    joiner = "&" if "?" in base else "?"
    return f"{base}{joiner}t={unsubscribe_token(settings, customer_id, issued)}"


# --- replies ----------------------------------------------------------------------------------


def reply_address(settings: Settings, outbox_id: uuid.UUID) -> str | None:
    """`reply+<token>@<reply_domain>` for the email `outbox_id`; None when no reply domain or
    key is set (replies then go to the From address, and are matched by sender)."""
    domain = (settings.reply_domain or "").strip()
    if not domain or not has_signing_key(settings):
        return None
    word = signing.sign_base32(signing_keys(settings)[0], _REPLY, outbox_id.bytes)
    return f"reply+{word}@{domain}"


_REPLY_WORD = re.compile(r"reply\+([a-z2-7]+)@", re.IGNORECASE)


def read_reply_token(settings: Settings, text: str | None) -> uuid.UUID | None:
    """The outbox row a reply answers, from its To address (`reply+<word>@...`), or from the
    bare word (Postmark's MailboxHash); None if there is none or it is not ours."""
    if not text or not has_signing_key(settings):
        return None
    match = _REPLY_WORD.search(text)
    word = match.group(1) if match else text.strip()
    payload = signing.verify_base32(signing_keys(settings), _REPLY, word, 16)
    return uuid.UUID(bytes=payload) if payload else None


# --- Message-ID -------------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _sending_domain(email_from: str) -> str:
    # parseaddr costs ~30 us: once per From address, not once per message sent.
    address = email.utils.parseaddr(email_from)[1]
    return address.rpartition("@")[2] or "salesengine.invalid"


def message_id(settings: Settings, outbox_id: uuid.UUID) -> str:
    """`<outbox id>@<sending domain>`: a reply's In-Reply-To names the email it answers."""
    return f"<{outbox_id}@{_sending_domain(settings.email_from)}>"


_OUR_ID = re.compile(
    r"<([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})@([^>\s]+)>", re.IGNORECASE
)


def outbox_ids_in(settings: Settings, header: str | None) -> list[uuid.UUID]:
    """The outbox rows named by Message-IDs of ours in In-Reply-To or References (the
    nearest first); ids at other domains are not ours."""
    if not header:
        return []
    domain = _sending_domain(settings.email_from).lower()
    found = [
        uuid.UUID(m.group(1)) for m in _OUR_ID.finditer(header) if m.group(2).lower() == domain
    ]
    return list(reversed(found))
